// A broker SIGKILLed mid-stream: sync sends fail over to the other broker within the retry
// budget, and every acknowledged message is consumed (the killed broker's after its restart).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
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

const char* const kTopic = "FailoverTopic";

TEST(ClusterBrokerFailoverTest, SyncSendsFailOverAndNothingAcknowledgedIsLost) {
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), kTopic, 4), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), kTopic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), kTopic, {"broker-a", "broker-b"}));
  ASSERT_TRUE(wait_for_route(cluster.name_server(1).addr(), kTopic, {"broker-a", "broker-b"}));

  DeliveryLog log;
  client::PushConsumer consumer("failover-group");
  consumer.set_namesrv_addr(cluster.namesrv_list());
  consumer.set_instance_name("failover-consumer");
  consumer.subscribe(kTopic, "*");
  consumer.set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer.set_pull_suspend_timeout_ms(2000);
  consumer.set_route_refresh_interval_ms(1000);
  consumer.register_message_listener([&log](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) log.record("failover-consumer", m);
    return client::ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(consumer.start().is_ok());

  client::Producer producer("failover-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  producer.set_retry_times_when_send_failed(2);
  producer.set_send_timeout_ms(3000);
  producer.set_send_latency_fault_enable(true);
  producer.set_route_refresh_interval_ms(1000);
  ASSERT_TRUE(producer.start().is_ok());

  std::mutex mu;
  std::map<std::string, std::string> broker_of;  // acknowledged body -> broker name
  std::vector<std::string> failures;
  std::atomic<int> sent{0};
  std::atomic<bool> producing{true};
  std::thread producer_thread([&] {
    for (int seq = 0; producing.load(); ++seq) {
      std::string body = "f-" + std::to_string(seq);
      auto result = producer.send(client::Message(kTopic, "TagF", "key-" + std::to_string(seq), body));
      std::lock_guard lock(mu);
      if (result.ok())
        broker_of[body] = result.message_queue.broker_name;
      else
        failures.push_back(body + ": " + std::to_string(result.code) + " " + result.remark);
      ++sent;
      std::this_thread::sleep_for(2ms);
    }
  });

  ASSERT_TRUE(eventually([&] { return sent.load() >= 300; }, 30s));
  EXPECT_EQ(cluster.broker(1).stop(SIGKILL), 128 + SIGKILL);
  int sent_at_kill = sent.load();
  ASSERT_TRUE(eventually([&] { return sent.load() >= sent_at_kill + 500; }, 60s))
      << "sends stalled after the kill: " << sent.load() - sent_at_kill;
  producing = false;
  producer_thread.join();

  std::map<std::string, std::string> acknowledged;
  {
    std::lock_guard lock(mu);
    acknowledged = broker_of;
    EXPECT_TRUE(failures.empty()) << failures.size() << " sync sends failed despite retries, e.g. "
                                  << (failures.empty() ? "" : failures.front());
  }
  int on_b = 0;
  for (const auto& [body, broker] : acknowledged) on_b += broker == "broker-b";
  EXPECT_GT(on_b, 0) << "nothing was acknowledged by broker-b before the kill";

  // Everything acknowledged by broker-a is consumed while broker-b is down.
  auto consumed_all = [&](const std::string& only_broker) {
    auto got = log.distinct_bodies();
    for (const auto& [body, broker] : acknowledged)
      if ((only_broker.empty() || broker == only_broker) && got.count(body) == 0) return false;
    return true;
  };
  EXPECT_TRUE(eventually([&] { return consumed_all("broker-a"); }, 30s))
      << "broker-a's acknowledged messages were not all consumed";

  // Broker-b comes back on the same port with its store; its acknowledged messages are consumed.
  cluster.broker(1).start();
  bool all = eventually([&] { return consumed_all(""); }, 45s);
  consumer.shutdown();
  auto got = log.distinct_bodies();
  std::vector<std::string> lost;
  for (const auto& [body, broker] : acknowledged)
    if (got.count(body) == 0) lost.push_back(body + "@" + broker);
  EXPECT_TRUE(all) << lost.size() << " acknowledged messages lost, e.g. " << (lost.empty() ? "" : lost.front());
  std::cout << "[failover] sent=" << sent.load() << " acknowledged=" << acknowledged.size()
            << " on_killed_broker=" << on_b << " consumed_distinct=" << got.size()
            << " duplicates=" << log.duplicates().size() << std::endl;
}

}  // namespace
}  // namespace mq::testing
