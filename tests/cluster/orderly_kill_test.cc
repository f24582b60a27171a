// Ordered messages with a member killed: 100 order ids x 10 steps over two brokers, an orderly
// group of 3 of which one is a separate process SIGKILLed mid-run. The brokers expire the dead
// member's client channel and queue locks after 3 s, the survivors take its queues over, and per
// order id the first deliveries (across all three members, on the shared monotonic clock) come
// in step order, with every step consumed.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
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

const char* const kTopic = "OrderKillTopic";
const char* const kGroup = "orderly-kill-group";
const char* const kKilled = "killed";
constexpr int kOrders = 100;
constexpr int kSteps = 10;
constexpr int kTotal = kOrders * kSteps;

struct Delivery {
  int64_t ns = 0;  // steady clock (CLOCK_MONOTONIC, shared by every process on the host)
  std::string member;
  std::string queue;
  int order = 0;
  int step = 0;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Body "o<order>-s<step>" -> (order, step).
void parse_body(const std::string& body, int* order, int* step) {
  auto dash = body.find("-s");
  *order = std::stoi(body.substr(1, dash - 1));
  *step = std::stoi(body.substr(dash + 2));
}

// Deliveries of the in-process members.
class Deliveries {
 public:
  void record(const std::string& member, const client::MessageExt& m) {
    Delivery d{now_ns(), member, queue_key(m), 0, 0};
    parse_body(m.body(), &d.order, &d.step);
    std::lock_guard lock(mu_);
    all_.push_back(std::move(d));
  }
  std::vector<Delivery> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Delivery> all_;
};

// The killed member's "DELIVERED <ns> <queue> <body>" lines.
std::vector<Delivery> parse_member_output(const std::string& output) {
  std::vector<Delivery> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("DELIVERED ", 0) != 0) continue;
    std::istringstream fields(line.substr(10));
    Delivery d;
    std::string body;
    if (!(fields >> d.ns >> d.queue >> body)) continue;
    d.member = kKilled;
    parse_body(body, &d.order, &d.step);
    out.push_back(std::move(d));
  }
  return out;
}

std::set<std::pair<int, int>> distinct(const std::vector<Delivery>& a, const std::vector<Delivery>& b) {
  std::set<std::pair<int, int>> out;
  for (const auto* list : {&a, &b})
    for (const auto& d : *list) out.insert({d.order, d.step});
  return out;
}

std::unique_ptr<client::PushConsumer> start_member(const std::string& namesrv, const std::string& name,
                                                   Deliveries& log) {
  auto consumer = std::make_unique<client::PushConsumer>(kGroup);
  consumer->set_namesrv_addr(namesrv);
  consumer->set_instance_name(name);
  consumer->subscribe(kTopic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_rebalance_interval_ms(1000);
  consumer->set_heartbeat_interval_ms(1000);
  consumer->set_persist_offset_interval_ms(500);
  consumer->set_pull_suspend_timeout_ms(2000);
  consumer->register_message_listener_orderly([&log, name](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) {
      log.record(name, m);
      std::this_thread::sleep_for(20ms);
    }
    return client::ConsumeOrderlyStatus::kSuccess;
  });
  auto status = consumer->start();
  EXPECT_TRUE(status.is_ok()) << name << ": " << status.to_string();
  return consumer;
}

TEST(ClusterOrderlyKillTest, EveryOrderConsumedInStepOrderWhenAMemberIsKilled) {
  // Short expiries so the dead member's membership and queue locks go away within seconds.
  Cluster cluster(2, 2, {{"rebalanceLockMaxLiveTime", "3000"}, {"clientChannelExpiredTime", "3000"}});
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), kTopic, 4), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), kTopic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), kTopic, {"broker-a", "broker-b"}));

  // The member to be killed consumes more slowly, so it still holds unconsumed steps when killed.
  ChildProcess victim({bin_path("cluster_orderly_member"), cluster.namesrv_list(), kGroup, kTopic, kKilled, "40"},
                      cluster.dir() + "/killed-member.log");
  ASSERT_TRUE(eventually([&] { return victim.log().find("READY") != std::string::npos; }, 20s))
      << "the member process did not start:\n" << victim.log();

  Deliveries log;
  std::vector<std::unique_ptr<client::PushConsumer>> members;
  for (const char* name : {"survivor-1", "survivor-2"}) members.push_back(start_member(cluster.namesrv_list(), name, log));

  client::Producer producer("orderly-kill-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  ASSERT_TRUE(producer.start().is_ok());
  auto selector = client::Producer::select_by_hash();
  for (int step = 0; step < kSteps; ++step) {
    for (int order = 0; order < kOrders; ++order) {
      std::string key = "order-" + std::to_string(order);
      std::string body = "o" + std::to_string(order) + "-s" + std::to_string(step);
      auto result = producer.send(client::Message(kTopic, "TagO", key, body), selector, key);
      ASSERT_EQ(result.status, client::SendStatus::kSendOk) << result.code << " " << result.remark;
    }
  }
  producer.shutdown();

  // Kill the member once it is consuming.
  ASSERT_TRUE(eventually([&] { return parse_member_output(victim.log()).size() >= 20; }, 60s))
      << "the member process consumed nothing:\n" << victim.log();
  victim.signal(SIGKILL);
  const int64_t killed_at = now_ns();
  ASSERT_TRUE(victim.wait(10s).has_value());
  const std::vector<Delivery> victim_deliveries = parse_member_output(victim.log());
  const size_t before_kill = distinct(victim_deliveries, log.all()).size();
  EXPECT_LT(before_kill, static_cast<size_t>(kTotal)) << "everything was consumed before the kill";

  // About 20 s of listener time (1,000 steps of 20 ms over 8 queues) after lock expiry and
  // rebalance; the bound only catches a hang, with room for a loaded 2-core machine (40 s
  // ran out once in six full -j2 runs).
  bool done = eventually([&] { return distinct(victim_deliveries, log.all()).size() == static_cast<size_t>(kTotal); },
                         90s);
  for (auto& m : members) m->shutdown();
  std::vector<Delivery> all = log.all();
  EXPECT_TRUE(done) << "consumed " << distinct(victim_deliveries, all).size() << " of " << kTotal;

  // The survivors took over queues the killed member had been consuming.
  std::set<std::string> victim_queues;
  for (const auto& d : victim_deliveries) victim_queues.insert(d.queue);
  std::set<std::string> taken_over;
  for (const auto& d : all)
    if (d.ns > killed_at && victim_queues.count(d.queue) != 0) taken_over.insert(d.queue);
  EXPECT_FALSE(taken_over.empty()) << "no queue of the killed member was consumed by a survivor after the kill";

  all.insert(all.end(), victim_deliveries.begin(), victim_deliveries.end());
  std::stable_sort(all.begin(), all.end(), [](const Delivery& a, const Delivery& b) { return a.ns < b.ns; });
  std::map<int, std::vector<int>> first_steps;  // order -> steps in first-delivery order
  std::set<std::pair<int, int>> seen;
  int redeliveries = 0;
  int redeliveries_after_kill = 0;
  for (const auto& d : all) {
    if (seen.insert({d.order, d.step}).second) {
      first_steps[d.order].push_back(d.step);
    } else {
      ++redeliveries;
      if (d.ns > killed_at) ++redeliveries_after_kill;
    }
  }
  std::vector<int> expected(kSteps);
  for (int s = 0; s < kSteps; ++s) expected[static_cast<size_t>(s)] = s;
  for (int order = 0; order < kOrders; ++order)
    EXPECT_EQ(first_steps[order], expected) << "order " << order << " first-delivered out of step order";
  std::cout << "[orderly-kill] messages=" << kTotal << " deliveries=" << all.size()
            << " by killed member=" << victim_deliveries.size() << " consumed before kill=" << before_kill
            << " redeliveries=" << redeliveries << " (after kill " << redeliveries_after_kill << ")"
            << " queues taken over=" << taken_over.size() << std::endl;
}

}  // namespace
}  // namespace mq::testing
