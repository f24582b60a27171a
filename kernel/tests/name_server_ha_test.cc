// NameServerCore with master/slave groups: master and slave entries expire independently, and a
// group whose master is gone stays routed through its slave's registration (consumers read
// from the slave; producers skip a group without a master).
#include <atomic>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "namesrv/name_server_core.h"
#include "support/name_server_test_util.h"

namespace mq::kernel {
namespace {

using ::testing::ElementsAre;

using test::registration;
using test::topic;

class NameServerHaTest : public test::NameServerFixture {
 protected:
  std::map<int64_t, std::string> addrs_of(NameServerCore& ns, const std::string& topic) {
    auto route = ns.route(topic);
    if (!route.is_ok() || route->brokers.empty()) return {};
    return route->brokers[0].broker_addrs;
  }
};

TEST_F(NameServerHaTest, ExpiredMasterLeavesTheSlaveServingItsTopics) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "m:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T")})));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}, {1, "s:1"}}));

  now_ += 800;
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T")})));  // only the slave keeps talking
  EXPECT_EQ(ns.expire_inactive(now_ + 201), 1);
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 4, 4, kPermRead | kPermWrite}));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{1, "s:1"}}));

  // The slave's periodic registrations keep the group routed; the master's return restores it.
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T")})));
  EXPECT_TRUE(ns.route("T").is_ok());
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "m:1", {topic("T")})));
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}, {1, "s:1"}}));
}

TEST_F(NameServerHaTest, ExpiredSlaveLeavesTheMasterAlone) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T")})));
  now_ += 800;
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "m:1", {topic("T")})));
  EXPECT_EQ(ns.expire_inactive(now_ + 201), 1);
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{0, "m:1"}}));
}

TEST_F(NameServerHaTest, ASlaveSeenBeforeItsMasterRoutesItsTopicsUntilTheMasterSpeaks) {
  NameServerCore ns(settings(), log_);  // e.g. the name server restarted while the master was down
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T", 2), topic("Old")})));
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 2, 2, kPermRead | kPermWrite}));
  EXPECT_TRUE(ns.route("Old").is_ok());

  // The master's set is authoritative as soon as it registers.
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "m:1", {topic("T", 8)})));
  EXPECT_EQ(ns.route("Old").status().code(), Code::kTopicNotExist);
  route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 8, 8, kPermRead | kPermWrite}));

  // While the master is there, a slave's registration never changes the topics.
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s:1", {topic("T", 2), topic("SlaveOnly")})));
  EXPECT_EQ(ns.route("SlaveOnly").status().code(), Code::kTopicNotExist);
  EXPECT_THAT(ns.route("T")->queues, ElementsAre(QueueData{"broker-a", 8, 8, kPermRead | kPermWrite}));
}

TEST_F(NameServerHaTest, WithoutAMasterOnlyTheLowestSlaveIdDecidesTopics) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "s1:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 2, "s2:1", {topic("Other")})));
  EXPECT_TRUE(ns.route("T").is_ok());
  EXPECT_EQ(ns.route("Other").status().code(), Code::kTopicNotExist);
  EXPECT_EQ(addrs_of(ns, "T"), (std::map<int64_t, std::string>{{1, "s1:1"}, {2, "s2:1"}}));
}

TEST_F(NameServerHaTest, GroupsOfOtherBrokerNamesAreIndependent) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "am:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "as:1", {topic("T")})));
  now_ += 800;
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "bm:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 1, "bs:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "as:1", {topic("T")})));
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
