// Queue selection round-robin and the sync-send retry policy, with a fake sender.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "send_retry.h"
#include "topic_route.h"

namespace mq::client {
namespace {

TopicPublishInfo two_brokers() {
  std::vector<MessageQueue> queues;
  for (const char* b : {"broker-a", "broker-b"}) {
    for (int i = 0; i < 4; ++i) queues.push_back({"T", b, i});
  }
  return TopicPublishInfo(queues, {{"broker-a", "10.0.0.1:10911"}, {"broker-b", "10.0.0.2:10911"}});
}

SendResult ok_result() {
  SendResult r;
  r.status = SendStatus::kSendOk;
  r.code = code::kSuccess;
  return r;
}

SendResult error_result(int c) {
  SendResult r;
  r.code = c;
  r.remark = "injected";
  return r;
}

TEST(TopicPublishInfo, RoundRobinVisitsEveryQueueOncePerCycle) {
  auto info = two_brokers();
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::set<MessageQueue> seen;
    for (size_t i = 0; i < info.queues().size(); ++i) seen.insert(info.select_queue());
    EXPECT_EQ(seen.size(), info.queues().size());
  }
}

TEST(TopicPublishInfo, AvoidsTheFailedBrokerWhenAnotherExists) {
  auto info = two_brokers();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(info.select_queue("broker-a").broker_name, "broker-b");
  TopicPublishInfo single({{"T", "only", 0}, {"T", "only", 1}}, {{"only", "h:1"}});
  EXPECT_EQ(single.select_queue("only").broker_name, "only");
}

TEST(TopicPublishInfo, FromRouteKeepsWritableQueuesOfBrokersWithAMaster) {
  wire::TopicRouteResponse route;
  wire::QueueData writable, read_only, no_master;
  writable.brokerName = "a";
  writable.readQueueNums = 4;
  writable.writeQueueNums = 2;
  writable.perm = 6;
  read_only.brokerName = "b";
  read_only.readQueueNums = read_only.writeQueueNums = 4;
  read_only.perm = 4;
  no_master.brokerName = "c";
  no_master.readQueueNums = no_master.writeQueueNums = 4;
  no_master.perm = 6;
  route.queues = {writable, read_only, no_master};
  wire::BrokerData a, b, c;
  a.brokerName = "a";
  a.brokerAddrs = {{0, "h:1"}};
  b.brokerName = "b";
  b.brokerAddrs = {{0, "h:2"}};
  c.brokerName = "c";
  c.brokerAddrs = {{1, "h:3"}};  // slave only
  route.brokers = {a, b, c};
  auto info = TopicPublishInfo::from_route("T", route);
  ASSERT_EQ(info.queues().size(), 2u);
  EXPECT_EQ(info.queues()[0], (MessageQueue{"T", "a", 0}));
  EXPECT_EQ(info.broker_address("a"), "h:1");
  EXPECT_EQ(info.broker_address("c"), "");
  auto readable = readable_queues("T", route);
  EXPECT_EQ(readable.size(), 12u);  // a: 4 read queues, b: 4, c: 4 (read from its slave)
}

TEST(SendWithRetry, RetriesOnAnotherBrokerAfterARetriableError) {
  auto info = two_brokers();
  std::vector<std::string> brokers;
  auto result = send_with_retry(info, 2, std::chrono::seconds(10), [&](const MessageQueue& q, const std::string& addr) {
    brokers.push_back(q.broker_name);
    EXPECT_EQ(addr, q.broker_name == "broker-a" ? "10.0.0.1:10911" : "10.0.0.2:10911");
    return brokers.size() == 1 ? error_result(code::kSystemBusy) : ok_result();
  });
  EXPECT_TRUE(result.ok());
  ASSERT_EQ(brokers.size(), 2u);
  EXPECT_NE(brokers[0], brokers[1]);
  EXPECT_EQ(result.message_queue.broker_name, brokers[1]);
}

TEST(SendWithRetry, TransportErrorsAreRetriedUpToRetryTimes) {
  auto info = two_brokers();
  int attempts = 0;
  std::string last_broker;
  auto result = send_with_retry(info, 2, std::chrono::seconds(10), [&](const MessageQueue& q, const std::string&) {
    ++attempts;
    if (!last_broker.empty()) {
      EXPECT_NE(q.broker_name, last_broker);
    }
    last_broker = q.broker_name;
    return error_result(code::kRpcFailed);
  });
  EXPECT_EQ(attempts, 3);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.code, code::kRpcFailed);
}

TEST(SendWithRetry, NonRetriableErrorStopsAtOnce) {
  auto info = two_brokers();
  int attempts = 0;
  auto result = send_with_retry(info, 2, std::chrono::seconds(10), [&](const MessageQueue&, const std::string&) {
    ++attempts;
    return error_result(code::kMessageIllegal);
  });
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(result.code, code::kMessageIllegal);
}

TEST(SendWithRetry, EveryRetriableCodeIsRetried) {
  for (int c : {code::kTopicNotExist, code::kServiceNotAvailable, code::kSystemError, code::kSystemBusy,
                code::kNoPermission, code::kRpcTimeout}) {
    EXPECT_TRUE(is_retriable_send_code(c)) << c;
  }
  for (int c : {code::kSuccess, code::kMessageIllegal, code::kInvalidParameter, code::kIllegalArgument}) {
    EXPECT_FALSE(is_retriable_send_code(c)) << c;
  }
}

TEST(SendWithRetry, StoredWithFlushTimeoutIsNotRetried) {
  auto info = two_brokers();
  int attempts = 0;
  auto result = send_with_retry(info, 2, std::chrono::seconds(10), [&](const MessageQueue&, const std::string&) {
    ++attempts;
    SendResult r = ok_result();
    r.status = SendStatus::kFlushDiskTimeout;
    r.code = code::kFlushDiskTimeout;
    return r;
  });
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(result.ok());
}

TEST(SendWithRetry, ExpiredTimeoutPreventsFurtherAttempts) {
  auto info = two_brokers();
  int attempts = 0;
  send_with_retry(info, 5, std::chrono::milliseconds(0), [&](const MessageQueue&, const std::string&) {
    ++attempts;
    return error_result(code::kSystemBusy);
  });
  EXPECT_EQ(attempts, 1);
}

TEST(SendWithRetry, NoQueueMeansNoRoute) {
  TopicPublishInfo empty;
  auto result = send_with_retry(empty, 2, std::chrono::seconds(1), [&](const MessageQueue&, const std::string&) {
    ADD_FAILURE() << "no attempt expected";
    return ok_result();
  });
  EXPECT_EQ(result.code, code::kNoRoute);
}

}  // namespace
}  // namespace mq::client
