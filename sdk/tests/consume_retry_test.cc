// Consumer retry rules (failed messages of a batch, send-back request, retry topic restore,
// max reconsume times, in-flight table for consume timeouts), orderly retry bookkeeping and
// the scheduled-delivery setters of Message.
#include <gtest/gtest.h>

#include <limits>

#include "consume_retry.h"
#include "mq/client/message.h"
#include "orderly.h"

namespace mq::client {
namespace {

MessageExt at(int64_t offset, std::string body = "b") {
  MessageExt m;
  m.set_topic("T");
  m.set_queue_offset(offset);
  m.set_body(std::move(body));
  return m;
}

TEST(ConsumeRetry, FailedIndices) {
  using V = std::vector<size_t>;
  EXPECT_EQ(failed_indices(ConsumeStatus::kConsumeSuccess, std::numeric_limits<int32_t>::max(), 3), V{});
  EXPECT_EQ(failed_indices(ConsumeStatus::kReconsumeLater, std::numeric_limits<int32_t>::max(), 3), (V{0, 1, 2}));
  EXPECT_EQ(failed_indices(ConsumeStatus::kReconsumeLater, 1, 3), (V{0, 1, 2}));  // ack index ignored
  EXPECT_EQ(failed_indices(ConsumeStatus::kConsumeSuccess, 0, 3), (V{1, 2}));
  EXPECT_EQ(failed_indices(ConsumeStatus::kConsumeSuccess, -1, 2), (V{0, 1}));
  EXPECT_EQ(failed_indices(ConsumeStatus::kConsumeSuccess, -7, 2), (V{0, 1}));
  EXPECT_EQ(failed_indices(ConsumeStatus::kConsumeSuccess, 5, 0), V{});
}

TEST(ConsumeRetry, MaxReconsumeTimes) {
  EXPECT_EQ(effective_max_reconsume_times(-1, false), 16);
  EXPECT_EQ(effective_max_reconsume_times(-1, true), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(effective_max_reconsume_times(3, false), 3);
  EXPECT_EQ(effective_max_reconsume_times(0, true), 0);
}

TEST(ConsumeRetry, RestoresTheOriginalTopicOfRetryMessagesOnly) {
  MessageExt retried = at(1);
  retried.set_topic("%RETRY%G");
  retried.set_property(property::kRetryTopic, "Orders");
  restore_retry_topic(retried, "%RETRY%G");
  EXPECT_EQ(retried.topic(), "Orders");

  MessageExt other_group = at(2);
  other_group.set_topic("%RETRY%H");
  other_group.set_property(property::kRetryTopic, "Orders");
  restore_retry_topic(other_group, "%RETRY%G");
  EXPECT_EQ(other_group.topic(), "%RETRY%H");

  MessageExt plain = at(3);
  plain.set_topic("%RETRY%G");  // no RETRY_TOPIC: left as it is
  restore_retry_topic(plain, "%RETRY%G");
  EXPECT_EQ(plain.topic(), "%RETRY%G");

  EXPECT_TRUE(is_retry_topic("%RETRY%G"));
  EXPECT_FALSE(is_retry_topic("%DLQ%G"));
  EXPECT_FALSE(is_retry_topic("X%RETRY%G"));
  EXPECT_EQ(retry_topic_of("G"), "%RETRY%G");
  EXPECT_EQ(dlq_topic_of("G"), "%DLQ%G");
}

TEST(ConsumeRetry, SendBackRequestCarriesWhatTheListenerSaw) {
  MessageExt m = at(7);
  m.set_topic("Orders");
  m.set_commit_log_offset(123456);
  m.set_property(property::kUniqKey, "ABCDEF");
  m.set_offset_msg_id("7F0000010000271100000000001E240");
  auto r = make_send_back_request(m, "G", kDelayLevelDlq, 16);
  EXPECT_EQ(r.consumerGroup, "G");
  EXPECT_EQ(r.commitLogOffset, 123456);
  EXPECT_EQ(r.originMsgId, "ABCDEF");
  EXPECT_EQ(r.originTopic, "Orders");
  EXPECT_EQ(r.delayLevel, -1);
  EXPECT_EQ(r.maxReconsumeTimes, 16);
}

TEST(InFlightTable, ClaimAndExpiryOwnEachMessageOnce) {
  InFlightTable table;
  auto batch = std::make_shared<std::vector<MessageExt>>(std::vector<MessageExt>{at(10, "x"), at(11, "y")});
  table.begin(batch, 1000);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_TRUE(table.take_expired(1500, 1000).empty());
  EXPECT_TRUE(table.claim(10));
  EXPECT_FALSE(table.claim(10));
  auto expired = table.take_expired(2000, 1000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].message().queue_offset(), 11);
  EXPECT_EQ(expired[0].message().body(), "y");
  EXPECT_FALSE(table.claim(11));  // the sweep owns it now
  EXPECT_EQ(table.size(), 0u);
}

TEST(OrderlyBuffer, RetryLaterCountsReconsumesAndDropsGoneMessages) {
  OrderlyBuffer buffer;
  buffer.put({at(1), at(2), at(3)});
  auto batch = buffer.take(2);
  ASSERT_EQ(batch.size(), 2u);
  buffer.retry_later({});
  auto again = buffer.take(2);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].queue_offset(), 1);
  EXPECT_EQ(again[0].reconsume_times(), 1);
  EXPECT_EQ(again[1].reconsume_times(), 1);
  buffer.retry_later({1});  // offset 1 went to the DLQ
  auto third = buffer.take(2);
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(third[0].queue_offset(), 2);
  EXPECT_EQ(third[0].reconsume_times(), 2);
  EXPECT_EQ(third[1].queue_offset(), 3);
  EXPECT_EQ(third[1].reconsume_times(), 0);
  EXPECT_EQ(buffer.commit(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(MessageSchedule, DelayAndTimerSetters) {
  Message m("T", "body");
  EXPECT_EQ(m.delay_time_level(), 0);
  m.set_delay_time_level(3);
  EXPECT_EQ(m.property(property::kDelayTimeLevel), "3");
  EXPECT_EQ(m.delay_time_level(), 3);
  m.set_delay_time_level(0);
  EXPECT_EQ(m.property(property::kDelayTimeLevel), "");
  EXPECT_EQ(m.properties().count(property::kDelayTimeLevel), 0u);
  m.set_property(property::kDelayTimeLevel, "x");
  EXPECT_EQ(m.delay_time_level(), 0);
  m.set_deliver_time_ms(1700000000123);
  EXPECT_EQ(m.property(property::kTimerDeliverMs), "1700000000123");
  m.set_delay_ms(2500);
  EXPECT_EQ(m.property(property::kTimerDelayMs), "2500");
}

}  // namespace
}  // namespace mq::client
