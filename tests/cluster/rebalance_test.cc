// Two brokers (4+4 queues), two name servers, a clustering group of 3 push consumers under a
// continuous producer; a 4th member joins and one leaves mid-stream. Nothing acknowledged is
// lost, queues are reassigned, and re-deliveries happen only in the windows after a change.
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

const char* const kTopic = "RebalanceTopic";
const char* const kGroup = "rebalance-group";
constexpr int kQueuesPerBroker = 4;

// Phases of the run; even phases follow a membership change, odd ones are stable.
enum Phase : int { kStartup = 0, kThree = 1, kJoin = 2, kFour = 3, kLeave = 4, kFinal = 5, kDrain = 6, kShutdown = 7 };
constexpr auto kSettle = 4s;  // after a change: rebalance is prompt (group-change long poll)
constexpr auto kStable = 3s;  // long enough for every queue to receive messages

std::unique_ptr<client::PushConsumer> start_member(const std::string& namesrv, const std::string& name,
                                                   DeliveryLog& log) {
  auto consumer = std::make_unique<client::PushConsumer>(kGroup);
  consumer->set_namesrv_addr(namesrv);
  consumer->set_instance_name(name);
  consumer->subscribe(kTopic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_rebalance_interval_ms(1000);
  consumer->set_heartbeat_interval_ms(1000);
  consumer->set_persist_offset_interval_ms(500);
  consumer->set_pull_suspend_timeout_ms(2000);
  consumer->register_message_listener([&log, name](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) log.record(name, m);
    return client::ConsumeStatus::kConsumeSuccess;
  });
  auto status = consumer->start();
  EXPECT_TRUE(status.is_ok()) << name << ": " << status.to_string();
  return consumer;
}

// The queue sets of `members` in one stable phase must partition the topic's queues.
void expect_partition(const DeliveryLog& log, const std::vector<std::string>& members, int phase, size_t queues) {
  std::set<std::string> all;
  size_t sum = 0;
  for (const auto& m : members) {
    auto mine = log.queues_of(m, phase);
    EXPECT_FALSE(mine.empty()) << m << " consumed nothing in phase " << phase;
    sum += mine.size();
    all.insert(mine.begin(), mine.end());
  }
  EXPECT_EQ(all.size(), queues) << "phase " << phase << ": not every queue was consumed";
  EXPECT_EQ(sum, all.size()) << "phase " << phase << ": a queue was consumed by two members";
}

TEST(ClusterRebalanceTest, MembersJoinAndLeaveMidStreamWithoutLoss) {
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), kTopic, kQueuesPerBroker), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), kTopic, kQueuesPerBroker), "");
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(wait_for_route(cluster.name_server(i).addr(), kTopic, {"broker-a", "broker-b"}))
        << "name server " << i << " lacks a broker for " << kTopic;

  client::Producer producer("rebalance-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  // Every queue must keep receiving messages in each stable phase; on a loaded machine a slow
  // send would otherwise make latency-fault avoidance skip a broker for seconds.
  producer.set_send_latency_fault_enable(false);
  ASSERT_TRUE(producer.start().is_ok());

  DeliveryLog log;
  std::map<std::string, std::unique_ptr<client::PushConsumer>> members;
  for (const char* name : {"member-1", "member-2", "member-3"})
    members[name] = start_member(cluster.namesrv_list(), name, log);

  // Continuous production; only acknowledged messages must be consumed.
  std::mutex sent_mu;
  std::set<std::string> acknowledged;
  std::atomic<int> failed{0};
  std::atomic<bool> producing{true};
  std::thread producer_thread([&] {
    for (int seq = 0; producing.load(); ++seq) {
      std::string body = "r-" + std::to_string(seq);
      auto result = producer.send(client::Message(kTopic, "TagR", "key-" + std::to_string(seq), body));
      if (result.ok()) {
        std::lock_guard lock(sent_mu);
        acknowledged.insert(body);
      } else {
        ++failed;
      }
      std::this_thread::sleep_for(5ms);
    }
  });

  std::this_thread::sleep_for(kSettle);
  log.set_phase(kThree);
  std::this_thread::sleep_for(kStable);
  log.set_phase(kJoin);
  members["member-4"] = start_member(cluster.namesrv_list(), "member-4", log);
  std::this_thread::sleep_for(kSettle);
  log.set_phase(kFour);
  std::this_thread::sleep_for(kStable);
  log.set_phase(kLeave);
  EXPECT_TRUE(members["member-1"]->shutdown().is_ok());
  std::this_thread::sleep_for(kSettle);
  log.set_phase(kFinal);
  std::this_thread::sleep_for(kStable);
  log.set_phase(kDrain);
  producing = false;
  producer_thread.join();

  std::set<std::string> expected;
  {
    std::lock_guard lock(sent_mu);
    expected = acknowledged;
  }
  bool all = eventually(
      [&] {
        auto got = log.distinct_bodies();
        for (const auto& b : expected)
          if (got.count(b) == 0) return false;
        return true;
      },
      30s);
  // Once everything is consumed, the committed offsets reach every queue's end (the smallest
  // unfinished offset of an empty queue is its max offset), so a hand-over re-delivers nothing.
  std::string behind;
  bool committed = eventually(
      [&] {
        behind.clear();
        for (int b = 0; b < 2; ++b) {
          for (const auto& q : consume_stats(cluster.broker(b).broker_addr(), kGroup, kTopic))
            if (q.consumerOffset != q.brokerOffset)
              behind += q.brokerName + "#" + std::to_string(q.queueId) + " committed " +
                        std::to_string(q.consumerOffset) + " of " + std::to_string(q.brokerOffset) + "; ";
        }
        return behind.empty();
      },
      5s);
  EXPECT_TRUE(committed) << "committed offsets lag after full consumption: " << behind;
  log.set_phase(kShutdown);  // each shutdown hands queues (and unfinished offsets) to the others
  for (auto& [name, consumer] : members) consumer->shutdown();

  // No loss: every acknowledged message was consumed at least once.
  auto got = log.distinct_bodies();
  std::vector<std::string> lost;
  for (const auto& b : expected)
    if (got.count(b) == 0) lost.push_back(b);
  EXPECT_TRUE(all) << lost.size() << " acknowledged messages never consumed, e.g. "
                   << (lost.empty() ? "" : lost.front());
  EXPECT_EQ(failed.load(), 0) << "sends failed with both brokers up";
  EXPECT_GT(expected.size(), 1000u);

  // Queues were reassigned: each stable phase partitions the 8 queues among the live members,
  // and the members present throughout hold different queues at the end than at the start.
  const size_t queues = 2 * kQueuesPerBroker;
  expect_partition(log, {"member-1", "member-2", "member-3"}, kThree, queues);
  expect_partition(log, {"member-1", "member-2", "member-3", "member-4"}, kFour, queues);
  expect_partition(log, {"member-2", "member-3", "member-4"}, kFinal, queues);
  EXPECT_TRUE(log.queues_of("member-1", kFinal).empty()) << "member-1 consumed after its shutdown";
  for (const char* name : {"member-2", "member-3"})
    EXPECT_NE(log.queues_of(name, kThree), log.queues_of(name, kFinal)) << name << " kept the same queues";

  // Duplicates: counted per phase; a re-delivery in a stable phase is a defect.
  std::set<std::string> seen;
  std::map<int, int> redelivered_in_phase;
  std::map<std::string, std::string> history;  // body -> "member@queue/phase ..." for duplicates
  auto duplicated = log.duplicates();
  for (const auto& e : log.entries()) {
    if (!seen.insert(e.body).second) ++redelivered_in_phase[e.phase];
    if (duplicated.count(e.body)) history[e.body] += e.member + "@" + e.queue + "/" + std::to_string(e.phase) + " ";
  }
  for (const auto& [body, deliveries] : history) std::cout << "[rebalance] duplicate " << body << ": " << deliveries << "\n";
  int total_redeliveries = 0;
  for (const auto& [phase, n] : redelivered_in_phase) total_redeliveries += n;
  std::cout << "[rebalance] acknowledged=" << expected.size() << " delivered=" << log.total()
            << " distinct=" << got.size() << " duplicates=" << log.duplicates().size()
            << " redeliveries=" << total_redeliveries << " (startup=" << redelivered_in_phase[kStartup]
            << " join=" << redelivered_in_phase[kJoin] << " leave=" << redelivered_in_phase[kLeave]
            << " stable=" << redelivered_in_phase[kThree] + redelivered_in_phase[kFour] + redelivered_in_phase[kFinal]
            << " drain=" << redelivered_in_phase[kDrain] << " shutdown=" << redelivered_in_phase[kShutdown] << ")"
            << std::endl;
  for (int stable : {kThree, kFour, kFinal, kDrain})
    EXPECT_EQ(redelivered_in_phase[stable], 0) << "re-deliveries outside a rebalance window, phase " << stable;
}

}  // namespace
}  // namespace mq::testing
