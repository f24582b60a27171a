// BrokerCore send path: validation errors, topic auto-creation, queue choice, batches,
// encoded batches, message ids and store failures, against FakeMessageStore.
#include <gtest/gtest.h>

#include <set>

#include "broker/broker_core.h"
#include "mq/encoded_batch.h"
#include "mq/schedule_service.h"
#include "mq/transaction_service.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

class BrokerSendTest : public ::testing::Test {
 protected:
  void start(kernel::BrokerSettings s, kernel::BrokerPlugins plugins = {}) {
    store_ = std::make_shared<FakeMessageStore>();
    core_ = std::make_unique<kernel::BrokerCore>(std::move(s), store_, quiet_logger(), std::move(plugins));
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

// Stands in for the transaction plugin, so PREPARED sends pass check_plugins.
class NoTransactions final : public TransactionService {
 public:
  void end_transaction(EndTransaction, Reply<Status> reply) override { reply(Status::ok()); }
  void poll_checks(TransactionCheckPoll, Reply<TransactionChecks> reply) override { reply(TransactionChecks{}); }
};

// RocketMQ's producers set PGROUP on transactional messages only; the broker adds it from the
// request's producer group to a PREPARED message without one (its check-backs go to that
// group), on both send paths, and to no other message.
TEST_F(BrokerSendTest, OnlyPreparedMessagesGetTheProducerGroup) {
  kernel::BrokerPlugins plugins;
  plugins.transaction = std::make_shared<NoTransactions>();
  start(test_settings(dir_.path()), std::move(plugins));
  for (const bool encoded : {false, true}) {
    for (const int32_t sys_flag : {0, 0x2, kTransactionPreparedType}) {
      SendRequest req = make_send("T", {make_message("m")}, 0);
      req.producer_group = "PG";
      req.sys_flag = sys_flag;
      if (encoded) {
        std::string props;
        append_encoded_properties(req.messages[0], &props);
        batch::append_encoded_message(0, req.messages[0].body, props, &req.encoded_messages);
        req.messages.clear();
      }
      ASSERT_TRUE(send_sync(*core_, req).status.is_ok()) << encoded << " " << sys_flag;
      const StoredMessage got = store_->messages("T", 0).back();
      EXPECT_EQ(got.property(prop::kProducerGroup), sys_flag == kTransactionPreparedType ? "PG" : "")
          << "encoded " << encoded << ", sysFlag " << sys_flag;
    }
  }
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

// ---- encoded batches (SendRequest::encoded_messages): stored exactly as the same messages
// sent as Message structs, answered in batch form, checked as strictly.

// Marks every message it sees: with it loaded, encoded batches take the message path.
class MarkingHook final : public BeforeStoreHook {
 public:
  Status before_store(StoredMessage& msg) override {
    msg.set_property("HOOKED", "yes");
    return Status::ok();
  }
};

std::string encode(const std::vector<Message>& msgs) {
  std::string bytes;
  for (const Message& m : msgs) {
    std::string props;
    append_encoded_properties(m, &props);
    batch::append_encoded_message(m.flag, m.body, props, &bytes);
  }
  return bytes;
}

SendRequest encoded_send(const std::string& topic, const std::vector<Message>& msgs, QueueId queue_id) {
  SendRequest req = make_send(topic, {}, queue_id);
  req.encoded_messages = encode(msgs);
  req.producer_group = "PG";
  req.born_timestamp_ms = 4321;
  req.reconsume_times = 2;
  req.sys_flag = 0x2;
  return req;
}

std::vector<Message> sample_messages() {
  std::vector<Message> msgs;
  msgs.push_back(make_message("first", "TagA"));
  msgs.back().flag = 5;
  msgs.back().set_property(prop::kKeys, "k1 k2");
  msgs.push_back(make_message("second"));
  msgs.back().set_property(prop::kUniqKey, "CLIENT-ID-2");
  msgs.push_back(make_message(std::string(3000, 'x'), "TagC"));
  return msgs;
}

// Runs with no before-store hook (the view path) and with one (decoded to messages).
class BrokerSendEncodedTest : public BrokerSendTest, public ::testing::WithParamInterface<bool> {
 protected:
  void start(kernel::BrokerSettings s) {
    kernel::BrokerPlugins plugins;
    if (GetParam()) plugins.before_store.push_back(std::make_shared<MarkingHook>());
    BrokerSendTest::start(std::move(s), std::move(plugins));
  }
  void start() { start(test_settings(dir_.path())); }
};
INSTANTIATE_TEST_SUITE_P(Hooks, BrokerSendEncodedTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "WithBeforeStoreHook" : "ViewPath"; });

TEST_P(BrokerSendEncodedTest, StoresWhatTheMessagePathStoresAndAnswersInBatchForm) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 4, 4, kPermRead | kPermWrite}).is_ok());
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("before")}, 1)).status.is_ok());
  const std::vector<Message> msgs = sample_messages();
  SendResponse enc = send_sync(*core_, encoded_send("T", msgs, 1));
  ASSERT_TRUE(enc.status.is_ok()) << enc.status.to_string();
  SendRequest plain_req = encoded_send("T", msgs, 2);
  plain_req.encoded_messages.clear();
  plain_req.messages = msgs;
  SendResponse plain = send_sync(*core_, plain_req);
  ASSERT_TRUE(plain.status.is_ok()) << plain.status.to_string();

  EXPECT_EQ(enc.queue_id, 1);
  EXPECT_TRUE(enc.results.empty());
  ASSERT_TRUE(enc.batch.has_value());
  EXPECT_FALSE(plain.batch.has_value());
  const SendBatchResult& b = *enc.batch;
  EXPECT_EQ(b.first_queue_offset, QueueOffset(1));
  EXPECT_EQ(b.store_host, (HostAddress{0x7F000001, 10911}));

  store_->drain();
  auto stored = store_->messages("T", 1);
  auto expected = store_->messages("T", 2);
  ASSERT_EQ(stored.size(), 4u);
  ASSERT_EQ(expected.size(), 3u);
  ASSERT_EQ(b.commit_log_offsets.size(), 3u);
  // Only the messages sent without a UNIQ_KEY got one from the broker, and the reply says which.
  ASSERT_EQ(b.assigned_msg_ids.size(), 2u);
  EXPECT_EQ(b.assigned_msg_ids[0].first, 0);
  EXPECT_EQ(b.assigned_msg_ids[1].first, 2);
  for (size_t i = 0; i < 3; ++i) {
    const StoredMessage& got = stored[i + 1];
    const StoredMessage& want = expected[i];
    EXPECT_EQ(got.queue_offset, QueueOffset(1 + static_cast<int64_t>(i)));
    EXPECT_EQ(b.commit_log_offsets[i], got.commit_log_offset) << i;
    EXPECT_EQ(got.topic, "T");
    EXPECT_EQ(got.body, want.body) << i;
    EXPECT_EQ(got.flag, want.flag) << i;
    EXPECT_EQ(got.sys_flag, 0x2);
    EXPECT_EQ(got.reconsume_times, 2);
    EXPECT_EQ(got.born_timestamp_ms, 4321);
    EXPECT_EQ(got.born_host, want.born_host);
    EXPECT_EQ(got.store_host, want.store_host);
    EXPECT_EQ(got.property(prop::kProducerGroup), "");  // added to PREPARED messages only
    EXPECT_EQ(got.property("HOOKED"), GetParam() ? "yes" : "");
    auto without_id = [](std::map<std::string, std::string, std::less<>> p) {
      p.erase(std::string(prop::kUniqKey));
      return p;
    };
    EXPECT_EQ(without_id(got.properties), without_id(want.properties)) << i;
  }
  EXPECT_EQ(stored[2].property(prop::kUniqKey), "CLIENT-ID-2");
  EXPECT_EQ(stored[1].property(prop::kUniqKey), b.assigned_msg_ids[0].second);
  EXPECT_EQ(stored[3].property(prop::kUniqKey), b.assigned_msg_ids[1].second);
  EXPECT_EQ(b.assigned_msg_ids[0].second.size(), 32u);
  EXPECT_NE(b.assigned_msg_ids[0].second, b.assigned_msg_ids[1].second);
}

TEST_P(BrokerSendEncodedTest, ABatchShortEnoughForTheStringsInlineBufferIsStoredIntact) {
  start();
  std::string bytes;
  batch::append_encoded_message(3, "z", "", &bytes);  // 13 bytes: a moved string would copy them
  SendRequest req = make_send("T", {}, 0);
  req.encoded_messages = bytes;
  auto r = send_sync(*core_, req);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  store_->drain();
  auto stored = store_->messages("T", 0);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].body, "z");
  EXPECT_EQ(stored[0].flag, 3);
}

TEST_P(BrokerSendEncodedTest, MalformedBatchesAreRefusedNamingTheMessage) {
  start();
  const std::string good = encode(sample_messages());
  struct Case {
    std::string bytes;
    std::string expect;
  } cases[] = {
      {good.substr(0, good.size() - 1), "encoded message 2"},
      {good + "xyz", "encoded message 3"},
      {good.substr(0, 4) + std::string("\x00\x10\x00\x00", 4) + good.substr(8), "body length 1048576"},
  };
  for (const Case& c : cases) {
    SendRequest req = make_send("T", {}, 0);
    req.encoded_messages = c.bytes;
    auto r = send_sync(*core_, req);
    EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
    EXPECT_NE(r.status.message().find(c.expect), std::string::npos) << r.status.message();
  }
  std::string bad_props;
  batch::append_encoded_message(0, "ok", "", &bad_props);
  batch::append_encoded_message(0, "body", "NAME-WITHOUT-VALUE\x02", &bad_props);
  SendRequest req = make_send("T", {}, 0);
  req.encoded_messages = bad_props;
  auto r = send_sync(*core_, req);
  EXPECT_EQ(r.status.code(), Code::kMessageIllegal);
  EXPECT_NE(r.status.message().find("encoded message 1 at byte 14: property entry at byte 0"), std::string::npos)
      << r.status.message();

  SendRequest both = make_send("T", {make_message("x")}, 0);
  both.encoded_messages = good;
  r = send_sync(*core_, both);
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("both messages and encodedMessages"), std::string::npos) << r.status.message();
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_P(BrokerSendEncodedTest, MessagesAreCheckedAsStrictlyAsOnTheMessagePath) {
  auto s = test_settings(dir_.path());
  s.max_message_size = 1000;
  start(s);
  auto refused = [&](const std::vector<Message>& msgs, int32_t sys_flag, Code code, const std::string& expect) {
    SendRequest req = encoded_send("T", msgs, 0);
    req.sys_flag = sys_flag;
    auto r = send_sync(*core_, req);
    EXPECT_EQ(r.status.code(), code) << r.status.to_string();
    EXPECT_NE(r.status.message().find(expect), std::string::npos) << r.status.message();
    EXPECT_FALSE(r.batch.has_value());
  };
  refused({make_message("ok"), make_message("")}, 0, Code::kMessageIllegal,
          "message body is empty (message 1 of the batch)");
  Message big = make_message(std::string(990, 'b'));
  big.set_property("K", "0123456789");  // 1003 bytes with its properties
  refused({big}, 0, Code::kMessageIllegal, "message of 1003 bytes (body + properties) exceeds maxMessageSize 1000");
  Message delayed = make_message("later");
  delayed.set_property(prop::kDelayLevel, "3");
  refused({make_message("now"), delayed}, 0, Code::kRequestCodeNotSupported, "schedule plugin not loaded");
  refused({make_message("tx")}, 0x4, Code::kRequestCodeNotSupported, "transaction plugin not loaded");
  EXPECT_EQ(store_->put_calls(), 0u);
  // At the limit is accepted.
  Message at_limit = make_message(std::string(1000, 'c'));
  SendRequest req = encoded_send("T", {at_limit}, 0);
  EXPECT_TRUE(send_sync(*core_, req).status.is_ok());
}

TEST_P(BrokerSendEncodedTest, StoreFailureIsReturnedWithoutResults) {
  start();
  store_->fail_puts_with(Status(Code::kServiceNotAvailable, "store is read-only: disk full"));
  auto r = send_sync(*core_, encoded_send("T", sample_messages(), 0));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("disk full"), std::string::npos);
  EXPECT_FALSE(r.batch.has_value());
}

}  // namespace
}  // namespace mq::test
