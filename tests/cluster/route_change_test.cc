// Routing through two name servers: a topic added on a second broker reaches a running
// producer within one (shortened) route refresh interval, and clients keep working through
// the other name server when one is killed.
#include <signal.h>

#include <chrono>
#include <memory>
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

constexpr int kRefreshMs = 2000;
// Scheduling slack on a loaded 2-core machine; the refresh interval itself dominates.
constexpr int kSlackMs = 2500;

TEST(ClusterRouteTest, TopicOnASecondBrokerReachesTheProducerWithinOneRefreshInterval) {
  const char* topic = "RouteTopic";
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), topic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), topic, {"broker-a"}));
  ASSERT_TRUE(wait_for_route(cluster.name_server(1).addr(), topic, {"broker-a"}));

  client::Producer producer("route-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  producer.set_route_refresh_interval_ms(kRefreshMs);
  ASSERT_TRUE(producer.start().is_ok());
  for (int i = 0; i < 8; ++i) {
    auto result = producer.send(client::Message(topic, "before-" + std::to_string(i)));
    ASSERT_TRUE(result.ok()) << result.code << " " << result.remark;
    EXPECT_EQ(result.message_queue.broker_name, "broker-a");
  }

  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), topic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), topic, {"broker-a", "broker-b"}));
  ASSERT_TRUE(wait_for_route(cluster.name_server(1).addr(), topic, {"broker-a", "broker-b"}));
  auto routed_at = std::chrono::steady_clock::now();
  bool reached = false;
  int i = 0;
  while (!reached && std::chrono::steady_clock::now() - routed_at < std::chrono::milliseconds(3 * kRefreshMs)) {
    auto result = producer.send(client::Message(topic, "after-" + std::to_string(i++)));
    ASSERT_TRUE(result.ok()) << result.code << " " << result.remark;
    reached = result.message_queue.broker_name == "broker-b";
    if (!reached) std::this_thread::sleep_for(50ms);
  }
  auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - routed_at).count();
  ASSERT_TRUE(reached) << "no send reached broker-b within " << 3 * kRefreshMs << " ms of the route change";
  EXPECT_LE(elapsed, kRefreshMs + kSlackMs) << "the route change took longer than one refresh interval";
}

TEST(ClusterRouteTest, ClientsFailOverToTheOtherNameServer) {
  const char* topic = "NsFailoverTopic";
  const char* late_topic = "NsFailoverLateTopic";
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), topic, 4), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), topic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(1).addr(), topic, {"broker-a", "broker-b"}));

  client::Producer producer("nsfail-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  producer.set_route_refresh_interval_ms(kRefreshMs);
  ASSERT_TRUE(producer.start().is_ok());
  ASSERT_TRUE(producer.send(client::Message(topic, "before")).ok());

  // The first name server in every client's list dies.
  EXPECT_EQ(cluster.name_server(0).stop(SIGKILL), 128 + SIGKILL);

  // A running producer still learns new routes (a topic it never used) and refreshes old ones.
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), late_topic, 2), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(1).addr(), late_topic, {"broker-b"}));
  for (int i = 0; i < 4; ++i) {
    auto result = producer.send(client::Message(late_topic, "late-" + std::to_string(i)));
    ASSERT_TRUE(result.ok()) << "send through the surviving name server: " << result.code << " " << result.remark;
    EXPECT_EQ(result.message_queue.broker_name, "broker-b");
  }
  std::set<std::string> brokers;
  for (int i = 0; i < 16; ++i) {
    auto result = producer.send(client::Message(topic, "after-" + std::to_string(i)));
    ASSERT_TRUE(result.ok()) << result.code << " " << result.remark;
    brokers.insert(result.message_queue.broker_name);
  }
  EXPECT_EQ(brokers, (std::set<std::string>{"broker-a", "broker-b"}));

  // New clients whose first name server is dead start and work.
  client::Producer late_producer("nsfail-late-producer");
  late_producer.set_namesrv_addr(cluster.namesrv_list());
  ASSERT_TRUE(late_producer.start().is_ok());
  std::set<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    std::string body = "late-producer-" + std::to_string(i);
    auto result = late_producer.send(client::Message(late_topic, body));
    ASSERT_TRUE(result.ok()) << result.code << " " << result.remark;
    sent.insert(body);
  }
  DeliveryLog log;
  client::PushConsumer consumer("nsfail-group");
  consumer.set_namesrv_addr(cluster.namesrv_list());
  consumer.set_instance_name("nsfail-consumer");
  consumer.subscribe(late_topic, "*");
  consumer.set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer.set_pull_suspend_timeout_ms(2000);
  consumer.register_message_listener([&log](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) log.record("nsfail-consumer", m);
    return client::ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(consumer.start().is_ok());
  bool all = eventually(
      [&] {
        auto got = log.distinct_bodies();
        for (const auto& b : sent)
          if (got.count(b) == 0) return false;
        return true;
      },
      30s);
  consumer.shutdown();
  EXPECT_TRUE(all) << "consumed " << log.distinct_count() << " messages through the surviving name server";
}

}  // namespace
}  // namespace mq::testing
