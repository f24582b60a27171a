// Ordered messages across two brokers: 100 order ids x 10 steps sent with the hash selector,
// consumed by an orderly group of 3 of which one member goes away mid-run. Per order id, the
// first deliveries of its steps come in step order and every step is consumed.
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_support.h"
#include "mq/client/producer.h"
#include "mq/client/push_consumer.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

const char* const kTopic = "OrderTopic";
const char* const kGroup = "orderly-group";
constexpr int kOrders = 100;
constexpr int kSteps = 10;

// Per order id, every step delivered, in delivery order (re-deliveries included).
struct OrderLog {
  std::mutex mu;
  std::map<int, std::vector<int>> steps_by_order;
  std::atomic<int> deliveries{0};

  void record(const client::MessageExt& m) {
    // Body "o<order>-s<step>".
    const std::string& body = m.body();
    auto dash = body.find("-s");
    int order = std::stoi(body.substr(1, dash - 1));
    int step = std::stoi(body.substr(dash + 2));
    std::lock_guard lock(mu);
    steps_by_order[order].push_back(step);
    ++deliveries;
  }

  // Distinct (order, step) pairs delivered so far.
  int distinct() {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& [order, steps] : steps_by_order) n += static_cast<int>(std::set<int>(steps.begin(), steps.end()).size());
    return n;
  }
};

std::unique_ptr<client::PushConsumer> start_member(const std::string& namesrv, const std::string& name, OrderLog& log) {
  auto consumer = std::make_unique<client::PushConsumer>(kGroup);
  consumer->set_namesrv_addr(namesrv);
  consumer->set_instance_name(name);
  consumer->subscribe(kTopic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_rebalance_interval_ms(1000);
  consumer->set_heartbeat_interval_ms(1000);
  consumer->set_persist_offset_interval_ms(500);
  consumer->set_pull_suspend_timeout_ms(2000);
  consumer->register_message_listener_orderly([&log](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) {
      log.record(m);
      std::this_thread::sleep_for(20ms);  // slow enough that the member change happens mid-run
    }
    return client::ConsumeOrderlyStatus::kSuccess;
  });
  auto status = consumer->start();
  EXPECT_TRUE(status.is_ok()) << name << ": " << status.to_string();
  return consumer;
}

TEST(ClusterOrderlyTest, EveryOrderConsumedInStepOrderWhileAMemberLeaves) {
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), kTopic, 4), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), kTopic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), kTopic, {"broker-a", "broker-b"}));

  OrderLog log;
  std::vector<std::unique_ptr<client::PushConsumer>> members;
  for (const char* name : {"orderly-1", "orderly-2", "orderly-3"})
    members.push_back(start_member(cluster.namesrv_list(), name, log));

  client::Producer producer("orderly-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  ASSERT_TRUE(producer.start().is_ok());
  auto selector = client::Producer::select_by_hash();
  std::map<int, std::set<client::MessageQueue>> queues_of_order;
  for (int step = 0; step < kSteps; ++step) {
    for (int order = 0; order < kOrders; ++order) {
      std::string key = "order-" + std::to_string(order);
      std::string body = "o";
      body.append(std::to_string(order)).append("-s").append(std::to_string(step));
      client::Message msg(kTopic, "TagO", key, body);
      auto result = producer.send(msg, selector, key);
      ASSERT_EQ(result.status, client::SendStatus::kSendOk) << result.code << " " << result.remark;
      queues_of_order[order].insert(result.message_queue);
    }
  }
  std::set<client::MessageQueue> used;
  for (const auto& [order, queues] : queues_of_order) {
    ASSERT_EQ(queues.size(), 1u) << "order " << order << " was spread over queues";
    used.insert(*queues.begin());
  }
  EXPECT_GT(used.size(), 4u) << "the hash selector should spread 100 orders over both brokers' queues";

  // One member leaves once consumption is under way (the API has no abrupt kill: destroy it).
  ASSERT_TRUE(eventually([&] { return log.deliveries.load() >= kOrders * kSteps / 4; }, 60s))
      << "orderly consumption did not start: " << log.deliveries.load() << " deliveries";
  int before_leave = log.distinct();
  members.front().reset();
  EXPECT_LT(before_leave, kOrders * kSteps) << "everything was consumed before the member left";

  bool done = eventually([&] { return log.distinct() == kOrders * kSteps; }, 60s);
  for (auto& m : members)
    if (m) m->shutdown();
  EXPECT_TRUE(done) << "consumed " << log.distinct() << " of " << kOrders * kSteps;

  std::lock_guard lock(log.mu);
  int redeliveries = 0;
  for (int order = 0; order < kOrders; ++order) {
    const auto& steps = log.steps_by_order[order];
    std::vector<int> first;
    std::set<int> seen;
    for (int s : steps)
      if (seen.insert(s).second) first.push_back(s);
    redeliveries += static_cast<int>(steps.size() - first.size());
    std::vector<int> expected(kSteps);
    for (int s = 0; s < kSteps; ++s) expected[static_cast<size_t>(s)] = s;
    EXPECT_EQ(first, expected) << "order " << order << " consumed out of order";
  }
  std::cout << "[orderly] messages=" << kOrders * kSteps << " deliveries=" << log.deliveries.load()
            << " redeliveries=" << redeliveries << " consumed before the member left=" << before_leave << std::endl;
}

}  // namespace
}  // namespace mq::testing
