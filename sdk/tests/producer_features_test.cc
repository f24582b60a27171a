// Producer features without a broker: hash selector, latency fault avoidance, queue selection
// skipping an unavailable broker, message-id prefixes per process, and local validation of
// batch / selector / future sends.
#include <set>

#include <gtest/gtest.h>

#include "latency_fault.h"
#include "message_id.h"
#include "mq/client/producer.h"
#include "send_retry.h"
#include "topic_route.h"

namespace mq::client {
namespace {

std::vector<MessageQueue> queues_of(int brokers, int per_broker) {
  std::vector<MessageQueue> out;
  for (int b = 0; b < brokers; ++b) {
    for (int q = 0; q < per_broker; ++q) out.push_back(MessageQueue{"T", "broker-" + std::to_string(b), q});
  }
  return out;
}

TEST(SelectByHash, SameArgSameQueueAndJavaHash) {
  auto select = Producer::select_by_hash();
  auto queues = queues_of(2, 4);
  Message m("T", "x");
  for (int order = 0; order < 100; ++order) {
    std::string arg = "order-" + std::to_string(order);
    EXPECT_EQ(select(queues, m, arg), select(queues, m, arg));
  }
  // Java "abc".hashCode() == 96354 -> 96354 % 8 == 2.
  EXPECT_EQ(select(queues, m, "abc"), queues[96354 % 8]);
  // A negative hash uses its absolute value: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
  MessageQueue q = select(queues, m, "polygenelubricants");
  EXPECT_NE(std::find(queues.begin(), queues.end(), q), queues.end());
  std::set<MessageQueue> used;
  for (int order = 0; order < 100; ++order) used.insert(select(queues, m, std::to_string(order)));
  EXPECT_GT(used.size(), 4u);  // spreads over the queues
}

TEST(LatencyFault, DurationTable) {
  EXPECT_EQ(not_available_duration_ms(10), 0);
  EXPECT_EQ(not_available_duration_ms(549), 0);
  EXPECT_EQ(not_available_duration_ms(550), 30000);
  EXPECT_EQ(not_available_duration_ms(2500), 120000);
  EXPECT_EQ(not_available_duration_ms(20000), 600000);
}

TEST(LatencyFault, FailedBrokerAvoidedUntilIsolationEnds) {
  LatencyFaultTolerance fault;
  EXPECT_TRUE(fault.is_available("a", 1000));
  fault.update("a", 5, true, 1000);
  EXPECT_FALSE(fault.is_available("a", 1000));
  EXPECT_FALSE(fault.is_available("a", 1000 + LatencyFaultTolerance::kIsolationMs - 1));
  EXPECT_TRUE(fault.is_available("a", 1000 + LatencyFaultTolerance::kIsolationMs));
  EXPECT_TRUE(fault.is_available("b", 1000));
  fault.update("b", 1000, false, 1000);  // slow: 60 s
  EXPECT_EQ(fault.pick_one_at_least(2000), "a");
  fault.update("a", 10, false, 2000);  // fast success clears it
  EXPECT_TRUE(fault.is_available("a", 2000));
  EXPECT_EQ(fault.pick_one_at_least(2000), "b");
  fault.remove("b");
  EXPECT_EQ(fault.pick_one_at_least(2000), "");
}

TEST(LatencyFault, SelectionSkipsUnavailableBroker) {
  std::map<std::string, std::string> addrs{{"broker-0", "h:1"}, {"broker-1", "h:2"}};
  TopicPublishInfo info(queues_of(2, 4), addrs);
  LatencyFaultTolerance fault;
  fault.update("broker-0", 0, true, 0);
  auto available = [&](const std::string& b) { return fault.is_available(b, 10); };
  for (int i = 0; i < 20; ++i) EXPECT_EQ(info.select_queue("", available).broker_name, "broker-1");
  // Every broker unavailable: still returns a queue (better than failing).
  fault.update("broker-1", 0, true, 0);
  std::set<std::string> used;
  for (int i = 0; i < 20; ++i) used.insert(info.select_queue("", available).broker_name);
  EXPECT_EQ(used.size(), 2u);
}

TEST(LatencyFault, RetryGoesStraightToHealthyBroker) {
  std::map<std::string, std::string> addrs{{"broker-0", "h:1"}, {"broker-1", "h:2"}};
  TopicPublishInfo info(queues_of(2, 4), addrs);
  LatencyFaultTolerance fault;
  int attempts_on_0 = 0;
  for (int round = 0; round < 10; ++round) {
    SendResult r = send_with_retry(
        info, 2, std::chrono::milliseconds(3000),
        [&](const MessageQueue& q, const std::string&) {
          SendResult out;
          if (q.broker_name == "broker-0") {
            ++attempts_on_0;
            fault.update(q.broker_name, 1, true, 0);
            out.code = code::kRpcFailed;
            return out;
          }
          out.status = SendStatus::kSendOk;
          out.code = code::kSuccess;
          return out;
        },
        [&](const std::string& b) { return fault.is_available(b, 1); });
    EXPECT_TRUE(r.ok());
  }
  EXPECT_LE(attempts_on_0, 1);  // after the first failure broker-0 is never chosen again
}

TEST(TopicPublishInfo, StartingQueueIsRandomPerInstance) {
  std::set<MessageQueue> first;
  for (int i = 0; i < 64; ++i) {
    TopicPublishInfo info(queues_of(2, 8), {{"broker-0", "h:1"}, {"broker-1", "h:2"}});
    first.insert(info.select_queue());
  }
  EXPECT_GT(first.size(), 1u);
}

TEST(MessageId, PidAndRandomPartOfPrefix) {
  MessageIdGenerator a(0x7F000001, 100, 0xAABBCCDD);
  MessageIdGenerator b(0x7F000001, 101, 0xAABBCCDD);
  MessageIdGenerator c(0x7F000001, 100, 0x11223344);
  std::string ia = a.make(5, 1), ib = b.make(5, 1), ic = c.make(5, 1);
  EXPECT_EQ(ia.substr(0, 8), ib.substr(0, 8));   // same ip
  EXPECT_NE(ia.substr(0, 20), ib.substr(0, 20)); // pid differs -> prefix differs
  EXPECT_EQ(ia.substr(8, 4), "0064");
  EXPECT_EQ(ib.substr(8, 4), "0065");
  EXPECT_NE(ia.substr(0, 20), ic.substr(0, 20)); // random part differs -> prefix differs
  EXPECT_NE(ia, ib);
  // Same process: consecutive ids differ.
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(MessageIdGenerator::instance().next());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(ProducerFeatures, LocalValidationOfNewSends) {
  Producer p("g");
  EXPECT_EQ(p.send_future(Message("T", "x")).get().code, code::kIllegalState);
  EXPECT_EQ(p.send_batch({Message("T", "x")}).code, code::kIllegalState);
  p.set_namesrv_addr("127.0.0.1:1");
  ASSERT_TRUE(p.start());
  EXPECT_EQ(p.send_batch({}).code, code::kIllegalArgument);
  SendResult mixed = p.send_batch({Message("T", "x"), Message("U", "y")});
  EXPECT_EQ(mixed.code, code::kIllegalArgument);
  EXPECT_NE(mixed.remark.find("one topic"), std::string::npos);
  EXPECT_EQ(p.send(Message("T", "x"), Producer::MessageQueueSelector(), "k").code, code::kIllegalArgument);
  // Valid sends reach the (absent) name server and fail with a transport error, not a hang.
  SendResult no_ns = p.send(Message("T", "x"), Producer::select_by_hash(), "k");
  EXPECT_FALSE(no_ns.ok());
  EXPECT_EQ(no_ns.code, code::kRpcFailed);
  EXPECT_EQ(p.send_future(Message("T", "x")).get().code, code::kRpcFailed);
  EXPECT_TRUE(p.shutdown());
}

}  // namespace
}  // namespace mq::client
