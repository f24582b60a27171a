// Unit tests of the pure parts: the half rewrite, the commit rebuild, op records, the
// progress file and option parsing.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include <boost/program_options/parsers.hpp>

#include "half_message.h"
#include "mq/transaction_service.h"
#include "progress_file.h"
#include "transaction_options.h"

namespace mq::transaction {
namespace {

namespace po = boost::program_options;

StoredMessage prepared(const std::string& topic = "Orders", QueueId queue = 3) {
  StoredMessage m;
  m.topic = topic;
  m.queue_id = queue;
  m.body = "payload";
  m.sys_flag = kTransactionPreparedType;
  m.set_property(prop::kProducerGroup, "pg");
  m.set_property(prop::kUniqKey, "ID1");
  m.set_property(prop::kTags, "TagA");
  return m;
}

TEST(HalfMessageTest, PreparedBecomesHalfInQueueZeroWithRealTopicAndQueue) {
  StoredMessage m = prepared();
  ASSERT_TRUE(to_half(m).is_ok());
  EXPECT_EQ(m.topic, kTransactionHalfTopic);
  EXPECT_EQ(m.queue_id, 0);
  EXPECT_EQ(m.sys_flag & kTransactionTypeMask, kTransactionNotType);
  EXPECT_EQ(m.property(prop::kRealTopic), "Orders");
  EXPECT_EQ(m.property(prop::kRealQueueId), "3");
  EXPECT_EQ(m.property(prop::kProducerGroup), "pg");
  EXPECT_EQ(m.property(prop::kTransactionPrepared), "true");
  EXPECT_EQ(m.property(tprop::kTransactionId), "ID1");
  EXPECT_EQ(m.tags(), "TagA");
}

TEST(HalfMessageTest, PlainMessagesAreLeftAlone) {
  StoredMessage m = prepared();
  m.sys_flag = 0;
  ASSERT_TRUE(to_half(m).is_ok());
  EXPECT_EQ(m.topic, "Orders");
  EXPECT_EQ(m.queue_id, 3);
  EXPECT_TRUE(m.property(prop::kRealTopic).empty());
}

TEST(HalfMessageTest, CommitAndRollbackTypedSendsAreRefused) {
  for (int32_t type : {kTransactionCommitType, kTransactionRollbackType}) {
    StoredMessage m = prepared();
    m.sys_flag = type;
    Status st = to_half(m);
    EXPECT_EQ(st.code(), Code::kInvalidParameter);
    EXPECT_NE(st.message().find("endTransaction"), std::string::npos) << st.message();
  }
}

TEST(HalfMessageTest, PreparedWithoutGroupIsRefused) {
  StoredMessage m = prepared();
  m.properties.erase(std::string(prop::kProducerGroup));
  EXPECT_EQ(to_half(m).code(), Code::kInvalidParameter);
}

TEST(HalfMessageTest, CommittedCopyRestoresTopicQueueAndDropsHalfProperties) {
  StoredMessage m = prepared();
  ASSERT_TRUE(to_half(m).is_ok());
  m.commit_log_offset = CommitLogOffset(4096);
  m.queue_offset = QueueOffset(7);
  auto committed = committed_from_half(m);
  ASSERT_TRUE(committed) << committed.status().to_string();
  StoredMessage c = *committed;
  EXPECT_EQ(c.topic, "Orders");
  EXPECT_EQ(c.queue_id, 3);
  EXPECT_EQ(c.sys_flag & kTransactionTypeMask, kTransactionCommitType);
  EXPECT_EQ(c.prepared_transaction_offset, CommitLogOffset(4096));
  EXPECT_TRUE(c.property(prop::kRealTopic).empty());
  EXPECT_TRUE(c.property(prop::kRealQueueId).empty());
  EXPECT_TRUE(c.property(prop::kTransactionPrepared).empty());
  EXPECT_EQ(c.property(prop::kUniqKey), "ID1");
  EXPECT_EQ(c.body, "payload");

  auto view = check_view_of_half(m);
  ASSERT_TRUE(view) << view.status().to_string();
  StoredMessage v = *view;
  EXPECT_EQ(v.topic, "Orders");
  EXPECT_EQ(v.queue_id, 3);
  EXPECT_EQ(v.commit_log_offset, CommitLogOffset(4096));
  EXPECT_EQ(v.queue_offset, QueueOffset(7));
}

TEST(HalfMessageTest, OpRecordsRoundTrip) {
  for (OpKind k : {OpKind::kCommit, OpKind::kRollback, OpKind::kDiscard, OpKind::kCheck}) {
    StoredMessage op = make_op(QueueOffset(42), CommitLogOffset(100), k, HostAddress{0x7F000001, 10911});
    EXPECT_EQ(op.topic, kTransactionOpHalfTopic);
    EXPECT_EQ(op.body, "42");
    EXPECT_EQ(op.tags(), "d");
    auto parsed = parse_op(op);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->half_queue_offset, QueueOffset(42));
    EXPECT_EQ(parsed->kind, k);
  }
  StoredMessage junk;
  junk.body = "x";
  EXPECT_FALSE(parse_op(junk));
}

TEST(HalfMessageTest, ImmunityPropertyInSeconds) {
  StoredMessage m = prepared();
  EXPECT_EQ(immunity_ms(m, 6000), 6000);
  m.set_property(tprop::kCheckImmunitySeconds, "30");
  EXPECT_EQ(immunity_ms(m, 6000), 30000);
  m.set_property(tprop::kCheckImmunitySeconds, "bad");
  EXPECT_EQ(immunity_ms(m, 6000), 6000);
  // Stored before validation existed: never an overflowed or negative immunity.
  m.set_property(tprop::kCheckImmunitySeconds, "9223372036854775807");
  EXPECT_EQ(immunity_ms(m, 6000), 6000);
  m.set_property(tprop::kCheckImmunitySeconds, "-5");
  EXPECT_EQ(immunity_ms(m, 6000), 6000);
  m.set_property(tprop::kCheckImmunitySeconds, "2147483647");
  EXPECT_EQ(immunity_ms(m, 6000), int64_t{2147483647} * 1000);
}

TEST(HalfMessageTest, BadImmunityOnAPreparedSendIsRefused) {
  for (const char* v : {"9223372036854775807", "2147483648", "-1", "1.5", "x"}) {
    StoredMessage m = prepared();
    m.set_property(tprop::kCheckImmunitySeconds, v);
    Status st = to_half(m);
    EXPECT_EQ(st.code(), Code::kInvalidParameter) << v;
    EXPECT_NE(st.message().find("CHECK_IMMUNITY_TIME_IN_SECONDS=" + std::string(v)), std::string::npos) << st.message();
    EXPECT_EQ(m.topic, "Orders");  // not rewritten
  }
  StoredMessage ok = prepared();
  ok.set_property(tprop::kCheckImmunitySeconds, "60");
  EXPECT_TRUE(to_half(ok).is_ok());
}

TEST(HalfMessageTest, DelayedOrTimedPreparedSendIsRefused) {
  StoredMessage delayed = prepared();
  delayed.set_property(prop::kDelayLevel, "3");
  Status st = to_half(delayed);
  EXPECT_EQ(st.code(), Code::kInvalidParameter);
  EXPECT_NE(st.message().find("DELAY=3"), std::string::npos) << st.message();
  EXPECT_EQ(delayed.topic, "Orders");
  for (const char* key : {"TIMER_DELIVER_MS", "TIMER_DELAY_SEC", "TIMER_DELAY_MS"}) {
    StoredMessage timed = prepared();
    timed.set_property(key, "1000");
    Status t = to_half(timed);
    EXPECT_EQ(t.code(), Code::kInvalidParameter) << key;
    EXPECT_NE(t.message().find(key), std::string::npos) << t.message();
  }
  StoredMessage level0 = prepared();  // DELAY=0 means "no delay"
  level0.set_property(prop::kDelayLevel, "0");
  EXPECT_TRUE(to_half(level0).is_ok());
  // A plain (non-transactional) delayed message is not this hook's business.
  StoredMessage plain = prepared();
  plain.sys_flag = 0;
  plain.set_property(prop::kDelayLevel, "3");
  EXPECT_TRUE(to_half(plain).is_ok());
}

TEST(HalfMessageTest, PreparedSendToASystemTopicIsRefused) {
  for (const char* topic :
       {"SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "rmq_sys_wheel_timer"}) {
    StoredMessage m = prepared(topic);
    EXPECT_EQ(to_half(m).code(), Code::kInvalidParameter) << topic;
  }
}

TEST(HalfMessageTest, HalfWithSystemOrBadRealTopicOrQueueIsNeverRebuilt) {
  StoredMessage base = prepared();
  ASSERT_TRUE(to_half(base).is_ok());
  base.commit_log_offset = CommitLogOffset(777);
  struct Case {
    std::string_view key;
    std::string value;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {prop::kRealTopic, "SCHEDULE_TOPIC_XXXX", "system topic"},
      {prop::kRealTopic, "rmq_sys_wheel_timer", "system topic"},
      {prop::kRealTopic, "RMQ_SYS_TRANS_OP_HALF_TOPIC", "system topic"},
      {prop::kRealTopic, "", "no REAL_TOPIC"},
      {prop::kRealQueueId, "", "REAL_QID=''"},
      {prop::kRealQueueId, "abc", "REAL_QID='abc'"},
      {prop::kRealQueueId, "3x", "REAL_QID='3x'"},
      {prop::kRealQueueId, "-1", "REAL_QID='-1'"},
      {prop::kRealQueueId, "4294967296", "REAL_QID='4294967296'"},
  };
  for (const Case& c : cases) {
    StoredMessage h = base;
    h.set_property(c.key, c.value);
    auto committed = committed_from_half(h);
    ASSERT_FALSE(committed) << c.key << "=" << c.value;
    EXPECT_NE(committed.status().message().find(c.expect), std::string::npos) << committed.status().message();
    EXPECT_NE(committed.status().message().find("777"), std::string::npos) << committed.status().message();
    EXPECT_FALSE(check_view_of_half(h)) << c.key << "=" << c.value;
  }
}

TEST(ProgressFileTest, MissingIsZeroAndWritesRoundTrip) {
  char tmpl[] = "/tmp/txn-progress-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/config/transactionProgress.json";
  auto missing = read_progress(path);
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, Progress{});
  ASSERT_TRUE(write_progress(path, Progress{12, 34}).is_ok());
  auto back = read_progress(path);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (Progress{12, 34}));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::ofstream(path) << "garbage";
  auto bad = read_progress(path);
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

po::variables_map parse(const std::vector<std::string>& args) {
  po::options_description desc;
  declare_transaction_options(desc);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  return vm;
}

TEST(TransactionOptionsTest, DefaultsAndOverrides) {
  auto d = parse_transaction_options(parse({}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->transaction_timeout_ms, 6000);
  EXPECT_EQ(d->check_interval_ms, 60000);
  EXPECT_EQ(d->check_max, 15);
  auto o = parse_transaction_options(
      parse({"--transaction.transactionTimeout=100", "--transaction.transactionCheckInterval=50",
             "--transaction.transactionCheckMax=3"}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->transaction_timeout_ms, 100);
  EXPECT_EQ(o->check_interval_ms, 50);
  EXPECT_EQ(o->check_max, 3);
}

TEST(TransactionOptionsTest, BadValuesNameTheKey) {
  auto bad = parse_transaction_options(parse({"--transaction.transactionCheckMax=0"}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("transactionCheckMax=0"), std::string::npos);
  auto bad2 = parse_transaction_options(parse({"--transaction.transactionCheckInterval=1"}));
  ASSERT_FALSE(bad2);
  EXPECT_NE(bad2.status().message().find("transactionCheckInterval"), std::string::npos);
}

}  // namespace
}  // namespace mq::transaction
