// ReplicaSelector (which broker of a master/slave group a consumer reads from and commits
// to) and the route views producers and consumers build from groups with slaves.
#include "replica_selector.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "topic_route.h"

namespace mq::client {
namespace {

const MessageQueue kQueue{"T", "broker-a", 0};
const std::map<int64_t, std::string> kGroup = {{0, "m:1"}, {1, "s1:1"}, {2, "s2:1"}};

TEST(ReplicaSelector, ReadsFromTheMasterWhileItIsReachable) {
  ReplicaSelector selector;
  auto target = selector.choose(kQueue, kGroup);
  EXPECT_EQ(target.broker_id, 0);
  EXPECT_EQ(target.addr, "m:1");
  EXPECT_TRUE(target.is_master());
  selector.on_result("m:1", Status(code::kRpcTimeout, "slow"));  // a timeout is not "down"
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
}

TEST(ReplicaSelector, RefusedMasterSwitchesToTheLowestSlaveAndBackAfterTheDownPeriod) {
  ReplicaSelector selector(/*down_ms=*/100);
  selector.on_result("m:1", Status(code::kRpcFailed, "connection refused"));
  EXPECT_TRUE(selector.is_down("m:1"));
  auto target = selector.choose(kQueue, kGroup);
  EXPECT_EQ(target.broker_id, 1);
  EXPECT_EQ(target.addr, "s1:1");
  EXPECT_EQ(selector.offset_target(kGroup).addr, "s1:1");
  selector.mark_down("s1:1");
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "s2:1");

  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the down period ends: the master is tried again
  EXPECT_FALSE(selector.is_down("m:1"));
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
  EXPECT_EQ(selector.offset_target(kGroup).addr, "m:1");
}

TEST(ReplicaSelector, ASuccessfulCallEndsTheDownPeriodAtOnce) {
  ReplicaSelector selector(/*down_ms=*/60000);
  selector.mark_down("m:1");
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "s1:1");
  selector.on_result("m:1", Status::ok());
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
}

TEST(ReplicaSelector, MasterGoneFromTheRouteReadsFromASlave) {
  ReplicaSelector selector;
  std::map<int64_t, std::string> slaves_only = {{2, "s2:1"}, {1, "s1:1"}};
  EXPECT_EQ(selector.choose(kQueue, slaves_only).addr, "s1:1");
  EXPECT_EQ(selector.offset_target(slaves_only).broker_id, 1);
  EXPECT_FALSE(selector.offset_target(slaves_only).is_master());
  EXPECT_TRUE(selector.choose(kQueue, {}).empty());
}

TEST(ReplicaSelector, EverythingDownStillTriesTheMaster) {
  ReplicaSelector selector;
  for (const auto& [id, addr] : kGroup) selector.mark_down(addr);
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
  EXPECT_EQ(selector.offset_target(kGroup).addr, "m:1");
}

TEST(ReplicaSelector, FollowsASuggestionPerQueueWhileTheSuggestedBrokerIsUsable) {
  ReplicaSelector selector;
  const MessageQueue other{"T", "broker-a", 1};
  selector.on_suggestion(kQueue, 2);
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "s2:1");
  EXPECT_EQ(selector.choose(other, kGroup).addr, "m:1");  // per queue
  EXPECT_EQ(selector.offset_target(kGroup).addr, "m:1");  // offsets still go to the master

  selector.mark_down("s2:1");  // the suggested slave is down: back to the master
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
  selector.on_result("s2:1", Status::ok());
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "s2:1");

  selector.on_suggestion(kQueue, 7);  // not in the route: ignored
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
  selector.on_suggestion(kQueue, 1);
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "s1:1");
  selector.on_suggestion(kQueue, 0);  // "back to the master"
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
  selector.on_suggestion(kQueue, 1);
  selector.forget(kQueue);
  EXPECT_EQ(selector.choose(kQueue, kGroup).addr, "m:1");
}

TEST(ReplicaSelector, OnlyRpcFailedCountsAsUnreachable) {
  EXPECT_TRUE(is_unreachable(Status(code::kRpcFailed, "reset")));
  EXPECT_FALSE(is_unreachable(Status(code::kRpcTimeout, "slow")));
  EXPECT_FALSE(is_unreachable(Status(code::kSystemBusy, "busy")));
  EXPECT_FALSE(is_unreachable(Status::ok()));
}

wire::TopicRouteResponse route_with_slaves() {
  wire::TopicRouteResponse route;
  wire::QueueData a, b;
  a.brokerName = "broker-a";
  a.readQueueNums = a.writeQueueNums = 2;
  a.perm = 6;
  b.brokerName = "broker-b";
  b.readQueueNums = b.writeQueueNums = 2;
  b.perm = 6;
  route.queues = {a, b};
  wire::BrokerData ba, bb;
  ba.brokerName = "broker-a";
  ba.brokerAddrs = {{0, "a-master:1"}, {1, "a-slave:1"}};
  bb.brokerName = "broker-b";
  bb.brokerAddrs = {{1, "b-slave:1"}};  // its master is gone
  route.brokers = {ba, bb};
  return route;
}

TEST(ReplicaRoutes, ProducersSendOnlyToMasters) {
  auto info = TopicPublishInfo::from_route("T", route_with_slaves());
  ASSERT_EQ(info.queues().size(), 2u);
  for (const auto& q : info.queues()) EXPECT_EQ(q.broker_name, "broker-a");
  EXPECT_EQ(info.broker_address("broker-a"), "a-master:1");
  EXPECT_EQ(info.broker_address("broker-b"), "");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(info.select_queue().broker_name, "broker-a");
}

TEST(ReplicaRoutes, ConsumersKeepTheQueuesOfAGroupServedOnlyByASlave) {
  auto route = route_with_slaves();
  auto queues = readable_queues("T", route);
  ASSERT_EQ(queues.size(), 4u);
  EXPECT_EQ(queues[2], (MessageQueue{"T", "broker-b", 0}));
  EXPECT_EQ(group_addresses(route, "broker-a"), (std::map<int64_t, std::string>{{0, "a-master:1"}, {1, "a-slave:1"}}));
  EXPECT_EQ(group_addresses(route, "broker-b"), (std::map<int64_t, std::string>{{1, "b-slave:1"}}));
  EXPECT_TRUE(group_addresses(route, "broker-c").empty());
  ReplicaSelector selector;
  EXPECT_EQ(selector.choose(queues[2], group_addresses(route, "broker-b")).addr, "b-slave:1");
}

}  // namespace
}  // namespace mq::client
