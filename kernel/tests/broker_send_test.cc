// BrokerCore send path: validation errors, topic auto-creation, queue choice, batches,
// message ids and store failures, against FakeMessageStore.
#include <gtest/gtest.h>

#include <set>

#include "broker/broker_core.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

class BrokerSendTest : public ::testing::Test {
 protected:
  void start(kernel::BrokerSettings s) {
    store_ = std::make_shared<FakeMessageStore>();
    core_ = std::make_unique<kernel::BrokerCore>(std::move(s), store_, quiet_logger());
    ASSERT_TRUE(core_->start().is_ok());
  }
  void start() { start(test_settings(dir_.path())); }
  void TearDown() override {
    if (core_) core_->stop();
  }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerSendTest, RejectsInvalidTopicName) {
  start();
  auto r = send_sync(*core_, make_send("bad topic!", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("bad topic!"), std::string::npos) << r.status.message();
  r = send_sync(*core_, make_send("", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  r = send_sync(*core_, make_send(std::string(128, 'a'), {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, RejectsEmptyBody) {
  start();
  auto r = send_sync(*core_, make_send("T", {make_message("")}));
  EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
  EXPECT_NE(r.status.message().find("message body is empty"), std::string::npos);
  EXPECT_TRUE(r.results.empty());
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, RejectsOversizedMessageNamingSizeAndLimit) {
  auto s = test_settings(dir_.path());
  s.max_message_size = 1000;
  start(s);
  Message m = make_message(std::string(990, 'b'));
  m.set_property("K", "0123456789");  // 990 + 1 + 10 + 2 = 1003 bytes
  auto r = send_sync(*core_, make_send("T", {m}));
  EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
  EXPECT_NE(r.status.message().find("1003"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("1000"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("maxMessageSize"), std::string::npos) << r.status.message();
  // Exactly at the limit is accepted.
  Message ok = make_message(std::string(1000, 'c'));
  EXPECT_TRUE(send_sync(*core_, make_send("T", {ok})).status.is_ok());
}

TEST_F(BrokerSendTest, RejectsPropertySeparatorsThatWouldForgeEntries) {
  start();
  // "x\x02REAL_TOPIC\x01victim" encoded as is would add a second REAL_TOPIC entry (decoders
  // keep the last one): refused whole, nothing stored.
  Message forged = make_message("x");
  forged.set_property("REAL_TOPIC", "userTopic");
  forged.set_property("ZZ", std::string("x\x02REAL_TOPIC\x01victim"));
  auto r = send_sync(*core_, make_send("T", {make_message("fine"), forged}));
  EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
  EXPECT_NE(r.status.message().find("property 'ZZ'"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("message 1 of the batch"), std::string::npos) << r.status.message();
  Message empty_name = make_message("x");
  empty_name.set_property("", "v");
  EXPECT_EQ(send_sync(*core_, make_send("T", {empty_name})).status.code(), Code::kMessageIllegal);
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, RejectsQueueIdOutOfRange) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, kPermRead | kPermWrite}).is_ok());
  for (QueueId q : {2, 7, -2}) {
    auto r = send_sync(*core_, make_send("T", {make_message("x")}, q));
    EXPECT_EQ(r.status.code(), Code::kInvalidParameter) << q;
    EXPECT_NE(r.status.message().find("queue id " + std::to_string(q)), std::string::npos) << r.status.message();
  }
  EXPECT_TRUE(send_sync(*core_, make_send("T", {make_message("x")}, 1)).status.is_ok());
}

TEST_F(BrokerSendTest, RejectsEmptyMessageList) {
  start();
  auto r = send_sync(*core_, make_send("T", {}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("no message"), std::string::npos);
}

TEST_F(BrokerSendTest, RejectsMessageWhoseTopicDiffersFromRequest) {
  start();
  Message m = make_message("x");
  m.topic = "Other";
  auto r = send_sync(*core_, make_send("T", {m}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
}

TEST_F(BrokerSendTest, AutoCreatesUnknownTopicWithDefaultQueueNums) {
  auto s = test_settings(dir_.path());
  s.default_topic_queue_nums = 3;
  start(s);
  auto r = send_sync(*core_, make_send("NewTopic", {make_message("hello")}));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  auto topics = core_->topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0], (TopicConfig{"NewTopic", 3, 3, kPermRead | kPermWrite}));
}

TEST_F(BrokerSendTest, UnknownTopicWithoutAutoCreateIsTopicNotExist) {
  auto s = test_settings(dir_.path());
  s.auto_create_topic_enable = false;
  start(s);
  auto r = send_sync(*core_, make_send("Missing", {make_message("hello")}));
  EXPECT_EQ(r.status.code(), Code::kTopicNotExist);
  EXPECT_NE(r.status.message().find("mqadmin updateTopic"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("autoCreateTopicEnable"), std::string::npos) << r.status.message();
  EXPECT_TRUE(core_->topics().empty());
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, TopicWithoutWritePermIsNoPermission) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"RO", 4, 4, kPermRead}).is_ok());
  auto r = send_sync(*core_, make_send("RO", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kNoPermission);
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, QueueMinusOneIsRoundRobinPerTopic) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"A", 4, 4, kPermRead | kPermWrite}).is_ok());
  ASSERT_TRUE(core_->create_topic(TopicConfig{"B", 3, 3, kPermRead | kPermWrite}).is_ok());
  std::vector<QueueId> a, b;
  for (int i = 0; i < 8; ++i) {
    a.push_back(send_sync(*core_, make_send("A", {make_message("x")})).queue_id);
    if (i < 6) b.push_back(send_sync(*core_, make_send("B", {make_message("y")})).queue_id);
  }
  EXPECT_EQ(a, (std::vector<QueueId>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(b, (std::vector<QueueId>{0, 1, 2, 0, 1, 2}));
  for (QueueId q = 0; q < 4; ++q) EXPECT_EQ(store_->messages("A", q).size(), 2u);
}

TEST_F(BrokerSendTest, TransactionSysFlagsAreRefusedWithoutTransactionPlugin) {
  start();
  for (int32_t flag : {0x4, 0x8, 0xC, 0x4 | 0x2}) {
    SendRequest req = make_send("T", {make_message("tx")}, 0);
    req.sys_flag = flag;
    auto r = send_sync(*core_, req);
    EXPECT_EQ(r.status.code(), Code::kRequestCodeNotSupported) << "sysFlag " << flag;
    EXPECT_NE(r.status.message().find("transaction plugin not loaded"), std::string::npos) << r.status.message();
    EXPECT_TRUE(r.results.empty());
  }
  store_->drain();
  EXPECT_TRUE(store_->messages("T", 0).empty());
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, SingleSendFillsStoredFieldsAndIds) {
  start();
  SendRequest req = make_send("T", {make_message("payload", "TagA")}, 2);
  req.sys_flag = 0x2;  // MULTI_TAGS: a non-transaction bit travels unchanged
  req.reconsume_times = 3;
  req.born_timestamp_ms = 1234;
  auto r = send_sync(*core_, req);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.queue_id, 2);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].queue_offset, QueueOffset(0));
  EXPECT_EQ(r.results[0].msg_id.size(), 32u);

  auto stored = store_->messages("T", 2);
  ASSERT_EQ(stored.size(), 1u);
  const StoredMessage& m = stored[0];
  EXPECT_EQ(m.topic, "T");
  EXPECT_EQ(m.body, "payload");
  EXPECT_EQ(m.tags(), "TagA");
  EXPECT_EQ(m.property(prop::kUniqKey), r.results[0].msg_id);
  EXPECT_EQ(m.sys_flag, 0x2);
  EXPECT_EQ(m.reconsume_times, 3);
  EXPECT_EQ(m.born_timestamp_ms, 1234);
  EXPECT_EQ(m.born_host, (HostAddress{0x7F000001, 40000}));
  EXPECT_EQ(m.store_host, (HostAddress{0x7F000001, 10911}));

  HostAddress host;
  CommitLogOffset offset;
  ASSERT_TRUE(decode_offset_msg_id(r.results[0].offset_msg_id, &host, &offset));
  EXPECT_EQ(host, (HostAddress{0x7F000001, 10911}));
  EXPECT_EQ(offset, m.commit_log_offset);
}

TEST_F(BrokerSendTest, KeepsClientUniqKeyAndGeneratesDistinctOnes) {
  start();
  Message mine = make_message("a");
  mine.set_property(prop::kUniqKey, "CLIENT-ID-1");
  auto r = send_sync(*core_, make_send("T", {mine}, 0));
  ASSERT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.results[0].msg_id, "CLIENT-ID-1");
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(send_sync(*core_, make_send("T", {make_message("b")})).results.at(0).msg_id);
  EXPECT_EQ(ids.size(), 100u);
}

TEST_F(BrokerSendTest, BatchIsStoredConsecutivelyInOneQueue) {
  start();
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("first")}, 1)).status.is_ok());
  auto r = send_sync(*core_, make_send("T", {make_message("m1"), make_message("m2"), make_message("m3")}, 1));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.queue_id, 1);
  ASSERT_EQ(r.results.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.results[i].queue_offset, QueueOffset(1 + i));
  EXPECT_NE(r.results[0].msg_id, r.results[1].msg_id);
  auto stored = store_->messages("T", 1);
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[3].body, "m3");
  EXPECT_EQ(store_->put_calls(), 2u);  // one put + one put_batch
}

TEST_F(BrokerSendTest, BatchWithOneBadMessageIsRejectedWhole) {
  start();
  auto r = send_sync(*core_, make_send("T", {make_message("ok"), make_message("")}, 0));
  EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
  EXPECT_NE(r.status.message().find("message 1 of the batch"), std::string::npos) << r.status.message();
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerSendTest, StoreFailureIsReturnedWithoutResults) {
  start();
  store_->fail_puts_with(Status(Code::kServiceNotAvailable, "store is read-only: disk full"));
  auto r = send_sync(*core_, make_send("T", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("disk full"), std::string::npos);
  EXPECT_TRUE(r.results.empty());
  r = send_sync(*core_, make_send("T", {make_message("x"), make_message("y")}, 0));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_TRUE(r.results.empty());
}

TEST_F(BrokerSendTest, SendBeforeStartAndAfterStopIsServiceNotAvailable) {
  store_ = std::make_shared<FakeMessageStore>();
  core_ = std::make_unique<kernel::BrokerCore>(test_settings(dir_.path()), store_, quiet_logger());
  auto r = send_sync(*core_, make_send("T", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  ASSERT_TRUE(core_->start().is_ok());
  EXPECT_TRUE(send_sync(*core_, make_send("T", {make_message("x")})).status.is_ok());
  core_->stop();
  r = send_sync(*core_, make_send("T", {make_message("x")}));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace mq::test
