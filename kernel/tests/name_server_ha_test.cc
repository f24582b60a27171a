// NameServerCore with master/slave groups: master and slave entries expire independently, and a
// group whose master is gone stays routed through its slave's registration (consumers read
// from the slave; producers skip a group without a master).
#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "namesrv/name_server_core.h"

namespace mq::kernel {
namespace {

using ::testing::ElementsAre;

TopicConfig ha_topic(const std::string& name, int32_t queues = 4) {
  TopicConfig t;
  t.topic_name = name;
  t.read_queue_nums = queues;
  t.write_queue_nums = queues;
  return t;
}

BrokerRegistration ha_registration(int64_t id, const std::string& addr, std::vector<TopicConfig> topics,
                                   const std::string& name = "broker-a") {
  BrokerRegistration r;
  r.cluster_name = "DefaultCluster";
  r.broker_name = name;
  r.broker_id = id;
  r.broker_addr = addr;
  r.topics = std::move(topics);
  r.heartbeat_timeout_ms = 1000;
  return r;
}

class NameServerHaTest : public ::testing::Test {
 protected:
  NameServerSettings settings() {
    NameServerSettings s;
    s.clock_ms = [this] { return now_.load(); };
    return s;
  }
  std::map<int64_t, std::string> addrs_of(NameServerCore& ns, const std::string& topic) {
    auto route = ns.route(topic);
    if (!route.is_ok() || route->brokers.empty()) return {};
    return route->brokers[0].broker_addrs;
  }
  std::atomic<int64_t> now_{1'000'000};
  std::shared_ptr<spdlog::logger> log_ =
      std::make_shared<spdlog::logger>("namesrv-ha-test", std::make_shared<spdlog::sinks::null_sink_mt>());
};

TEST_F(NameServerHaTest, ExpiredMasterLeavesTheSlaveServingItsTopics) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "m:1", {ha_topic("T")})));
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T")})));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}, {1, "s:1"}}));

  now_ += 800;
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T")})));  // only the slave keeps talking
  EXPECT_EQ(ns.expire_inactive(now_ + 201), 1);
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 4, 4, kPermRead | kPermWrite}));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{1, "s:1"}}));

  // The slave's periodic registrations keep the group routed; the master's return restores it.
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T")})));
  EXPECT_TRUE(ns.route("T").is_ok());
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "m:1", {ha_topic("T")})));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}, {1, "s:1"}}));
}

TEST_F(NameServerHaTest, ExpiredSlaveLeavesTheMasterAlone) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T")})));
  now_ += 800;
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "m:1", {ha_topic("T")})));
  EXPECT_EQ(ns.expire_inactive(now_ + 201), 1);
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}}));
}

TEST_F(NameServerHaTest, ASlaveSeenBeforeItsMasterRoutesItsTopicsUntilTheMasterSpeaks) {
  NameServerCore ns(settings(), log_);  // e.g. the name server restarted while the master was down
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T", 2), ha_topic("Old")})));
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 2, 2, kPermRead | kPermWrite}));
  EXPECT_TRUE(ns.route("Old").is_ok());

  // The master's set is authoritative as soon as it registers.
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "m:1", {ha_topic("T", 8)})));
  EXPECT_EQ(ns.route("Old").status().code(), Code::kTopicNotExist);
  route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 8, 8, kPermRead | kPermWrite}));

  // While the master is there, a slave's registration never changes the topics.
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s:1", {ha_topic("T", 2), ha_topic("SlaveOnly")})));
  EXPECT_EQ(ns.route("SlaveOnly").status().code(), Code::kTopicNotExist);
  EXPECT_THAT(ns.route("T")->queues, ElementsAre(QueueData{"broker-a", 8, 8, kPermRead | kPermWrite}));
}

TEST_F(NameServerHaTest, WithoutAMasterOnlyTheLowestSlaveIdDecidesTopics) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "s1:1", {ha_topic("T")})));
  ASSERT_TRUE(ns.register_broker(ha_registration(2, "s2:1", {ha_topic("Other")})));
  EXPECT_TRUE(ns.route("T").is_ok());
  EXPECT_EQ(ns.route("Other").status().code(), Code::kTopicNotExist);
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{1, "s1:1"}, {2, "s2:1"}}));
}

TEST_F(NameServerHaTest, GroupsOfOtherBrokerNamesAreIndependent) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "am:1", {ha_topic("T")}, "broker-a")));
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "as:1", {ha_topic("T")}, "broker-a")));
  now_ += 800;
  ASSERT_TRUE(ns.register_broker(ha_registration(0, "bm:1", {ha_topic("T")}, "broker-b")));
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "bs:1", {ha_topic("T")}, "broker-b")));
  ASSERT_TRUE(ns.register_broker(ha_registration(1, "as:1", {ha_topic("T")}, "broker-a")));
  EXPECT_EQ(ns.expire_inactive(now_ + 201), 1);  // broker-a's master only
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  ASSERT_EQ(route->brokers.size(), 2u);
  EXPECT_EQ(route->brokers[0].broker_addrs, (std::map<int64_t, std::string>{{1, "as:1"}}));
  EXPECT_EQ(route->brokers[1].broker_addrs, (std::map<int64_t, std::string>{{0, "bm:1"}, {1, "bs:1"}}));
  EXPECT_EQ(route->queues.size(), 2u);
}

}  // namespace
}  // namespace mq::kernel
