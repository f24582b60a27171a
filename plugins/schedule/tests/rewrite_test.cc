// The before-store rewrite, the restore at delivery and the send-back plan.
#include <gtest/gtest.h>

#include "atomic_file.h"
#include "message_rewrite.h"
#include "mq/schedule_service.h"

namespace mq::schedule {
namespace {

const std::vector<int64_t> kLevels{1000, 5000, 10000};
constexpr int64_t kMax = 60000;
constexpr int64_t kNow = 1'700'000'000'000;

StoredMessage msg(std::string topic = "T", QueueId q = 2) {
  StoredMessage m;
  m.topic = std::move(topic);
  m.queue_id = q;
  m.body = "b";
  m.set_property(prop::kUniqKey, "U1");
  m.set_property(prop::kTags, "TagA");
  return m;
}

TEST(Rewrite, PlainMessageUntouched) {
  StoredMessage m = msg();
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(m.topic, "T");
  EXPECT_EQ(m.queue_id, 2);
  m.set_property(prop::kDelayLevel, "0");
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(m.topic, "T");
}

TEST(Rewrite, DelayLevelGoesToScheduleTopicQueueLevelMinusOne) {
  StoredMessage m = msg();
  m.set_property(prop::kDelayLevel, "2");
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(m.topic, kScheduleTopic);
  EXPECT_EQ(m.queue_id, 1);
  EXPECT_EQ(m.property(prop::kRealTopic), "T");
  EXPECT_EQ(m.property(prop::kRealQueueId), "2");
  EXPECT_EQ(m.property(prop::kUniqKey), "U1");
}

TEST(Rewrite, LevelAboveMaxIsClamped) {
  StoredMessage m = msg();
  m.set_property(prop::kDelayLevel, "99");
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(m.queue_id, 2);
  EXPECT_EQ(m.property(prop::kDelayLevel), "3");
}

TEST(Rewrite, NonNumericDelayIsRefusedNamingPropertyAndValue) {
  StoredMessage m = msg();
  m.set_property(prop::kDelayLevel, "soon");
  Status st = rewrite_for_schedule(m, kLevels, kMax, kNow);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), Code::kMessageIllegal);
  EXPECT_NE(st.message().find("DELAY='soon'"), std::string::npos) << st.message();
}

TEST(Rewrite, TransactionPreparedAndRollbackAreLeftAlone) {
  for (int32_t type : {kTransactionPreparedType, kTransactionRollbackType}) {
    StoredMessage m = msg();
    m.sys_flag = type;
    m.set_property(prop::kDelayLevel, "1");
    ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
    EXPECT_EQ(m.topic, "T");
  }
  StoredMessage commit = msg();
  commit.sys_flag = kTransactionCommitType;
  commit.set_property(prop::kDelayLevel, "1");
  ASSERT_TRUE(rewrite_for_schedule(commit, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(commit.topic, kScheduleTopic);
}

TEST(Rewrite, SendingToSystemTopicsIsRefused) {
  for (std::string_view t : {kScheduleTopic, kTimerTopic}) {
    StoredMessage m = msg(std::string(t));
    Status st = rewrite_for_schedule(m, kLevels, kMax, kNow);
    EXPECT_EQ(st.code(), Code::kNoPermission);
  }
}

TEST(Rewrite, TimerPropertiesGoToTimerTopicWithDueTime) {
  StoredMessage a = msg();
  a.set_property(prop::kTimerDelayMs, "1500");
  a.set_property(prop::kDelayLevel, "1");  // a timer wins over DELAY
  ASSERT_TRUE(rewrite_for_schedule(a, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(a.topic, kTimerTopic);
  EXPECT_EQ(a.queue_id, 0);
  EXPECT_EQ(a.property(kTimerOutMs), std::to_string(kNow + 1500));
  EXPECT_TRUE(a.property(prop::kDelayLevel).empty());
  EXPECT_TRUE(a.property(prop::kTimerDelayMs).empty());

  StoredMessage b = msg();
  b.set_property(prop::kTimerDelaySec, "3");
  ASSERT_TRUE(rewrite_for_schedule(b, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(b.property(kTimerOutMs), std::to_string(kNow + 3000));

  StoredMessage c = msg();
  c.set_property(prop::kTimerDeliverMs, std::to_string(kNow + 42000));
  ASSERT_TRUE(rewrite_for_schedule(c, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(c.property(kTimerOutMs), std::to_string(kNow + 42000));
}

TEST(Rewrite, PastDeliveryTimeIsStoredAsNormalMessage) {
  StoredMessage m = msg();
  m.set_property(prop::kTimerDeliverMs, std::to_string(kNow - 5));
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  EXPECT_EQ(m.topic, "T");
  EXPECT_TRUE(m.property(prop::kTimerDeliverMs).empty());
}

TEST(Rewrite, TimerBeyondLimitOrGarbageIsRefused) {
  StoredMessage far = msg();
  far.set_property(prop::kTimerDelayMs, std::to_string(kMax + 1));
  Status st = rewrite_for_schedule(far, kLevels, kMax, kNow);
  EXPECT_EQ(st.code(), Code::kMessageIllegal);
  EXPECT_NE(st.message().find("timerMaxDelayMs=60000"), std::string::npos) << st.message();
  StoredMessage abs = msg();
  abs.set_property(prop::kTimerDeliverMs, std::to_string(kNow + kMax + 10));
  EXPECT_EQ(rewrite_for_schedule(abs, kLevels, kMax, kNow).code(), Code::kMessageIllegal);
  StoredMessage junk = msg();
  junk.set_property(prop::kTimerDelaySec, "x1");
  st = rewrite_for_schedule(junk, kLevels, kMax, kNow);
  EXPECT_NE(st.message().find("TIMER_DELAY_SEC='x1'"), std::string::npos) << st.message();
}

TEST(Rewrite, NegativeOrHugeDeliveryTimeIsRefused) {
  for (const char* v : {"-1", "-9223372036854775808", "99999999999999999999"}) {
    StoredMessage m = msg();
    m.set_property(prop::kTimerDeliverMs, v);
    Status st = rewrite_for_schedule(m, kLevels, kMax, kNow);
    EXPECT_EQ(st.code(), Code::kMessageIllegal) << v;
    EXPECT_NE(st.message().find(std::string("TIMER_DELIVER_MS='") + v + "'"), std::string::npos) << st.message();
  }
}

TEST(Restore, RealQueueIdOutsideInt32IsRefused) {
  for (const char* qid : {"2147483648", "4294967296", "-1"}) {
    StoredMessage m = msg(std::string(kScheduleTopic));
    m.set_property(prop::kRealTopic, "T");
    m.set_property(prop::kRealQueueId, qid);
    auto back = restore_for_delivery(m);
    ASSERT_FALSE(back.is_ok()) << qid;
    EXPECT_NE(back.status().message().find(std::string("REAL_QID='") + qid + "'"), std::string::npos)
        << back.status().message();
  }
}

TEST(ProgressFiles, OversizedNumbersAreErrorsNotExceptions) {
  auto big_offset = decode_offset_table("{\"offsetTable\":{\"1\":99999999999999999999}}");
  ASSERT_FALSE(big_offset.is_ok());
  EXPECT_NE(big_offset.status().message().find("99999999999999999999"), std::string::npos);
  auto big_level = decode_offset_table("{\"offsetTable\":{\"4294967297\":5}}");
  ASSERT_FALSE(big_level.is_ok());
  EXPECT_NE(big_level.status().message().find("4294967297"), std::string::npos);
  auto ok = decode_offset_table("{\"offsetTable\":{\"1\":7,\"2\":0}}");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->at(1), 7);
  auto field = json_int_field("{\"timerQueueOffset\":99999999999999999999}", "timerQueueOffset");
  ASSERT_FALSE(field.is_ok());
  EXPECT_NE(field.status().message().find("timerQueueOffset"), std::string::npos);
  auto absent = json_int_field("{}", "timerQueueOffset");
  ASSERT_TRUE(absent.is_ok());
  EXPECT_FALSE(absent->has_value());
}

TEST(Restore, RealTopicAndQueueBackPropertiesCleaned) {
  StoredMessage m = msg();
  m.set_property(prop::kDelayLevel, "1");
  ASSERT_TRUE(rewrite_for_schedule(m, kLevels, kMax, kNow).is_ok());
  m.commit_log_offset = CommitLogOffset(77);
  auto back = restore_for_delivery(m);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->topic, "T");
  EXPECT_EQ(back->queue_id, 2);
  EXPECT_EQ(back->property(prop::kUniqKey), "U1");
  EXPECT_EQ(back->property(prop::kTags), "TagA");
  for (auto p : {prop::kRealTopic, prop::kRealQueueId, prop::kDelayLevel}) EXPECT_TRUE(back->property(p).empty());
  StoredMessage broken = msg(std::string(kScheduleTopic));
  EXPECT_FALSE(restore_for_delivery(broken).is_ok());
}

TEST(SendBack, RetryPlanKeepsIdsAndCountsAttempts) {
  StoredMessage failed = msg("Orders", 1);
  failed.reconsume_times = 0;
  failed.flag = 7;
  ConsumerSendBack req;
  req.group = "G";
  req.origin_topic = "Orders";
  req.origin_msg_id = "U1";
  SendBackPlan plan = plan_send_back(failed, req, 16, 18);
  EXPECT_FALSE(plan.to_dlq);
  EXPECT_EQ(plan.target_topic, "%RETRY%G");
  EXPECT_EQ(plan.level, 3);
  EXPECT_EQ(plan.message.topic, kScheduleTopic);
  EXPECT_EQ(plan.message.queue_id, 2);
  EXPECT_EQ(plan.message.property(prop::kRealTopic), "%RETRY%G");
  EXPECT_EQ(plan.message.property(prop::kRetryTopic), "Orders");
  EXPECT_EQ(plan.message.property(prop::kOriginMessageId), "U1");
  EXPECT_EQ(plan.message.property(prop::kUniqKey), "U1");
  EXPECT_EQ(plan.message.reconsume_times, 1);
  EXPECT_EQ(plan.message.flag, 7);
  EXPECT_EQ(plan.message.body, "b");

  failed.reconsume_times = 5;
  failed.set_property(prop::kRetryTopic, "First");
  req.delay_level = 2;
  plan = plan_send_back(failed, req, 16, 18);
  EXPECT_EQ(plan.level, 2);
  EXPECT_EQ(plan.message.property(prop::kRetryTopic), "First");  // kept
}

TEST(SendBack, DlqAtMaxOrOnMinusOne) {
  StoredMessage failed = msg("Orders", 1);
  ConsumerSendBack req;
  req.group = "G";
  failed.reconsume_times = 2;
  EXPECT_FALSE(plan_send_back(failed, req, 3, 18).to_dlq);
  failed.reconsume_times = 3;
  SendBackPlan plan = plan_send_back(failed, req, 3, 18);
  EXPECT_TRUE(plan.to_dlq);
  EXPECT_EQ(plan.message.topic, "%DLQ%G");
  EXPECT_EQ(plan.message.queue_id, 0);
  EXPECT_TRUE(plan.message.property(prop::kRealTopic).empty());
  failed.reconsume_times = 0;
  req.delay_level = -1;
  EXPECT_TRUE(plan_send_back(failed, req, 16, 18).to_dlq);
}

}  // namespace
}  // namespace mq::schedule
