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
  StoredMessage c = committed_from_half(m);
  EXPECT_EQ(c.topic, "Orders");
  EXPECT_EQ(c.queue_id, 3);
  EXPECT_EQ(c.sys_flag & kTransactionTypeMask, kTransactionCommitType);
  EXPECT_EQ(c.prepared_transaction_offset, CommitLogOffset(4096));
  EXPECT_TRUE(c.property(prop::kRealTopic).empty());
  EXPECT_TRUE(c.property(prop::kRealQueueId).empty());
  EXPECT_TRUE(c.property(prop::kTransactionPrepared).empty());
  EXPECT_EQ(c.property(prop::kUniqKey), "ID1");
  EXPECT_EQ(c.body, "payload");

  StoredMessage v = check_view_of_half(m);
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
