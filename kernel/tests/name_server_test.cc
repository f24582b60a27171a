// NameServerCore tests: registration, routes, cluster info, topic removal on re-register,
// unregister, and expiry driven by a fake clock (directly and by the scan thread).
#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "namesrv/name_server_core.h"
#include "support/name_server_test_util.h"

namespace mq::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using test::registration;
using test::topic;
using NameServerTest = test::NameServerFixture;

TEST_F(NameServerTest, ClusterInfoCarriesEachBrokersRole) {
  NameServerCore ns(settings(), log_);
  auto master = registration("broker-a", 0, "10.0.0.1:10911", {topic("T")});
  master.role = "SYNC_MASTER";
  ASSERT_TRUE(ns.register_broker(master));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "10.0.0.2:10911", {})));  // no role: by id
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "10.0.0.3:10911", {})));
  auto info = ns.cluster_info();
  EXPECT_EQ(info.brokers["broker-a"].broker_roles, (std::map<int64_t, std::string>{{0, "SYNC_MASTER"}, {1, "SLAVE"}}));
  EXPECT_EQ(info.brokers["broker-b"].broker_roles, (std::map<int64_t, std::string>{{0, "ASYNC_MASTER"}}));
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  EXPECT_TRUE(route->brokers.front().broker_roles.empty()) << "roles travel in cluster info only";
}

TEST_F(NameServerTest, RegisterThenRouteAndClusterInfo) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "10.0.0.1:10911", {topic("T1", 8), topic("T2")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "10.0.0.2:10911", {})));
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "10.0.0.3:10911", {topic("T1")})));

  auto route = ns.route("T1");
  ASSERT_TRUE(route.is_ok()) << route.status().to_string();
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-a", 8, 8, kPermRead | kPermWrite},
                                         QueueData{"broker-b", 4, 4, kPermRead | kPermWrite}));
  ASSERT_EQ(route->brokers.size(), 2u);
  EXPECT_EQ(route->brokers[0],
            (BrokerData{"DefaultCluster", "broker-a", {{0, "10.0.0.1:10911"}, {1, "10.0.0.2:10911"}}, {}}));
  EXPECT_EQ(route->brokers[1], (BrokerData{"DefaultCluster", "broker-b", {{0, "10.0.0.3:10911"}}, {}}));

  ClusterInfo info = ns.cluster_info();
  EXPECT_THAT(info.clusters["DefaultCluster"], ElementsAre("broker-a", "broker-b"));
  EXPECT_EQ(info.brokers.size(), 2u);
  EXPECT_THAT(ns.topics(), ElementsAre("T1", "T2"));
}

TEST_F(NameServerTest, UnknownTopicIsTopicNotExistWithRemark) {
  NameServerCore ns(settings(), log_);
  auto route = ns.route("nope");
  ASSERT_FALSE(route);
  EXPECT_EQ(route.status().code(), Code::kTopicNotExist);
  EXPECT_THAT(route.status().message(), HasSubstr("'nope'"));
}

TEST_F(NameServerTest, ReRegisterReplacesTheBrokersTopicSet) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("Kept"), topic("Dropped")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "b:1", {topic("Kept")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("Kept", 2)})));
  EXPECT_EQ(ns.route("Dropped").status().code(), Code::kTopicNotExist);
  auto kept = ns.route("Kept");
  ASSERT_TRUE(kept.is_ok());
  EXPECT_THAT(kept->queues, ElementsAre(QueueData{"broker-a", 2, 2, kPermRead | kPermWrite},
                                        QueueData{"broker-b", 4, 4, kPermRead | kPermWrite}));
}

TEST_F(NameServerTest, SlaveRegistrationDoesNotChangeTopics) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "a:2", {})));
  EXPECT_TRUE(ns.route("T").is_ok());
}

TEST_F(NameServerTest, RefusesIncompleteRegistration) {
  NameServerCore ns(settings(), log_);
  Status s = ns.register_broker(registration("", 0, "a:1", {}));
  EXPECT_EQ(s.code(), Code::kInvalidParameter);
}

TEST_F(NameServerTest, UnregisterRemovesBrokerAndItsQueues) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("T")})));
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "b:1", {topic("T")})));
  ASSERT_TRUE(ns.unregister_broker("DefaultCluster", "broker-a", 0, "a:1"));
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  EXPECT_THAT(route->queues, ElementsAre(QueueData{"broker-b", 4, 4, kPermRead | kPermWrite}));
  EXPECT_THAT(ns.cluster_info().clusters["DefaultCluster"], ElementsAre("broker-b"));
}

TEST_F(NameServerTest, ExpireInactiveRemovesOnlySilentBrokers) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("A")}, 1000)));
  now_ += 600;
  ASSERT_TRUE(ns.register_broker(registration("broker-b", 0, "b:1", {topic("B")}, 1000)));

  EXPECT_EQ(ns.expire_inactive(now_ + 400), 0);  // a silent for exactly its timeout: still alive
  EXPECT_EQ(ns.expire_inactive(now_ + 401), 1);  // a is gone, b is not
  EXPECT_EQ(ns.route("A").status().code(), Code::kTopicNotExist);
  EXPECT_TRUE(ns.route("B").is_ok());
  EXPECT_THAT(ns.cluster_info().clusters["DefaultCluster"], ElementsAre("broker-b"));
  EXPECT_EQ(ns.expire_inactive(now_ + 1001), 1);
  EXPECT_THAT(ns.topics(), IsEmpty());
  EXPECT_TRUE(ns.cluster_info().brokers.empty());
}

TEST_F(NameServerTest, ExpiredSlaveKeepsMasterRoutes) {
  NameServerCore ns(settings(), log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 1, "a:2", {}, 1000)));
  now_ += 900;
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("T")}, 1000)));
  EXPECT_EQ(ns.expire_inactive(now_ + 200), 1);
  auto route = ns.route("T");
  ASSERT_TRUE(route.is_ok());
  ASSERT_EQ(route->brokers.size(), 1u);
  EXPECT_EQ(route->brokers[0].broker_addrs, (std::map<int64_t, std::string>{{0, "a:1"}}));
}

TEST_F(NameServerTest, ScanThreadExpiresSilentBrokers) {
  NameServerSettings s = settings();
  s.scan_not_active_broker_interval_ms = 10;
  NameServerCore ns(s, log_);
  ASSERT_TRUE(ns.register_broker(registration("broker-a", 0, "a:1", {topic("T")}, 1000)));
  ns.start();
  now_ += 5000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ns.route("T").is_ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(ns.route("T").status().code(), Code::kTopicNotExist);
  ns.stop();
}

}  // namespace
}  // namespace mq::kernel
