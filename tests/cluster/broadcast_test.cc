// Broadcasting across two brokers: each of 3 consumers of one group receives every message,
// with its offsets kept in its own local directory.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_support.h"
#include "mq/client/producer.h"
#include "mq/client/push_consumer.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

const char* const kTopic = "BroadcastTopic";
constexpr int kMessages = 300;

TEST(ClusterBroadcastTest, EveryMemberReceivesEveryMessage) {
  Cluster cluster;
  cluster.start();
  ASSERT_EQ(create_topic(cluster.broker(0).broker_addr(), kTopic, 4), "");
  ASSERT_EQ(create_topic(cluster.broker(1).broker_addr(), kTopic, 4), "");
  ASSERT_TRUE(wait_for_route(cluster.name_server(0).addr(), kTopic, {"broker-a", "broker-b"}));

  DeliveryLog log;
  const std::vector<std::string> names = {"bc-1", "bc-2", "bc-3"};
  std::vector<std::unique_ptr<client::PushConsumer>> members;
  for (const auto& name : names) {
    auto consumer = std::make_unique<client::PushConsumer>("broadcast-group");
    consumer->set_namesrv_addr(cluster.namesrv_list());
    consumer->set_instance_name(name);
    consumer->set_message_model(client::MessageModel::kBroadcasting);
    consumer->set_offset_store_dir(cluster.dir() + "/offsets-" + name);
    consumer->subscribe(kTopic, "*");
    consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
    consumer->set_pull_suspend_timeout_ms(2000);
    consumer->register_message_listener([&log, name](const std::vector<client::MessageExt>& msgs) {
      for (const auto& m : msgs) log.record(name, m);
      return client::ConsumeStatus::kConsumeSuccess;
    });
    auto status = consumer->start();
    ASSERT_TRUE(status.is_ok()) << name << ": " << status.to_string();
    members.push_back(std::move(consumer));
  }

  client::Producer producer("broadcast-producer");
  producer.set_namesrv_addr(cluster.namesrv_list());
  ASSERT_TRUE(producer.start().is_ok());
  std::set<std::string> sent;
  std::set<std::string> brokers_used;
  for (int i = 0; i < kMessages; ++i) {
    std::string body = "b-" + std::to_string(i);
    auto result = producer.send(client::Message(kTopic, "TagB", "key-" + std::to_string(i), body));
    ASSERT_EQ(result.status, client::SendStatus::kSendOk) << result.code << " " << result.remark;
    sent.insert(body);
    brokers_used.insert(result.message_queue.broker_name);
  }
  EXPECT_EQ(brokers_used.size(), 2u);

  bool all = eventually(
      [&] {
        for (const auto& name : names)
          if (log.bodies_of(name) != sent) return false;
        return true;
      },
      30s);
  for (auto& m : members) m->shutdown();
  for (const auto& name : names) {
    auto got = log.bodies_of(name);
    EXPECT_EQ(got.size(), sent.size()) << name << " did not receive every message";
    EXPECT_EQ(got, sent) << name;
  }
  EXPECT_TRUE(all);
}

}  // namespace
}  // namespace mq::testing
