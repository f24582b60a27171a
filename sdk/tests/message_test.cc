// Message value semantics, MessageExt fields, MessageQueue ordering/hash and wire conversion.
#include <unordered_set>

#include <gtest/gtest.h>

#include "mq/client/message.h"
#include "mq/encoded_batch.h"
#include "mq/message.h"
#include "mq/testkit/record_builder.h"
#include "wire_convert.h"

namespace mq::client {
namespace {

TEST(Message, TagsKeysAndPropertiesAreProperties) {
  Message m("TopicA", "TagA", "k1 k2", "body");
  EXPECT_EQ(m.topic(), "TopicA");
  EXPECT_EQ(m.tags(), "TagA");
  EXPECT_EQ(m.keys(), "k1 k2");
  EXPECT_EQ(m.property("TAGS"), "TagA");
  m.set_property("color", "red");
  EXPECT_EQ(m.properties().size(), 3u);
  m.clear_property("color");
  EXPECT_EQ(m.property("color"), "");
  Message no_tags("T", "body");
  EXPECT_EQ(no_tags.properties().size(), 0u);
}

TEST(Message, CopiesAreIndependentAndMovesLeaveAValidObject) {
  Message a("T", "TagA", "", "body");
  Message b = a;
  b.set_body("other");
  EXPECT_EQ(a.body(), "body");
  Message c = std::move(b);
  EXPECT_EQ(c.body(), "other");
  EXPECT_EQ(b.body(), "");  // NOLINT(bugprone-use-after-move): documented as empty but valid
  b.set_topic("reused");
  EXPECT_EQ(b.topic(), "reused");
  MessageExt e;
  e.set_queue_offset(7);
  e.set_body("x");
  MessageExt f = e;
  f.set_queue_offset(8);
  EXPECT_EQ(e.queue_offset(), 7);
  EXPECT_EQ(f.body(), "x");
  MessageExt g = std::move(f);
  EXPECT_EQ(g.queue_offset(), 8);
}

TEST(MessageExt, MsgIdIsUniqKeyElseOffsetMsgId) {
  MessageExt m;
  m.set_offset_msg_id("0A00000100002A9F0000000000000010");
  EXPECT_EQ(m.msg_id(), "0A00000100002A9F0000000000000010");
  m.set_property(property::kUniqKey, "CLIENTID");
  EXPECT_EQ(m.msg_id(), "CLIENTID");
}

TEST(MessageQueue, OrderedAndHashable) {
  MessageQueue a{"T", "a", 1}, b{"T", "a", 2}, c{"T", "b", 0};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  std::unordered_set<MessageQueue> set{a, b, c, a};
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(a.to_string(), "T@a@1");
}

TEST(WireConvert, MessageRoundTripAndSendStatusMapping) {
  Message m("T", "TagA", "k", "body");
  wire::Message w = to_wire(m);
  EXPECT_EQ(w.topic, "T");
  EXPECT_EQ(w.properties.at("TAGS"), "TagA");
  wire::MessageExt stored;
  stored.topic = "T";
  stored.properties = w.properties;
  stored.body = "body";
  stored.queueId = 3;
  stored.queueOffset = 42;
  stored.offsetMsgId = "OFF";
  stored.reconsumeTimes = 2;
  MessageExt ext = from_wire(stored);
  EXPECT_EQ(ext.queue_id(), 3);
  EXPECT_EQ(ext.queue_offset(), 42);
  EXPECT_EQ(ext.tags(), "TagA");
  EXPECT_EQ(ext.reconsume_times(), 2);

  wire::SendResponse response;
  response.code = code::kFlushDiskTimeout;
  response.queueId = 1;
  wire::SendResultItem item;
  item.msgId = "UNIQ";
  item.offsetMsgId = "OFF";
  item.queueOffset = 9;
  response.results = {item};
  SendResult r = send_result_from_wire(response, MessageQueue{"T", "a", -1}, "UNIQ");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, SendStatus::kFlushDiskTimeout);
  EXPECT_EQ(r.message_queue.queue_id, 1);
  EXPECT_EQ(r.queue_offset, 9);
  EXPECT_EQ(r.offset_msg_id, "OFF");
  response.code = code::kTopicNotExist;
  response.remark = "no topic";
  SendResult failed = send_result_from_wire(response, MessageQueue{"T", "a", 0}, "UNIQ");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.code, code::kTopicNotExist);
  EXPECT_EQ(failed.remark, "no topic");
}

TEST(WireConvert, PullRecordsAreDecodedIntoMessages) {
  wire::PullResponse response;
  response.__set_records(testkit::make_record("first", "TopicR", "KEYS\x01k1\x02TAGS\x01TagA\x02", 5) +
                         testkit::make_record("", "TopicR", "", 6));
  std::vector<MessageExt> out;
  ASSERT_EQ(messages_from_pull(response, &out), "");
  ASSERT_EQ(out.size(), 2u);
  const MessageExt& m = out[0];
  EXPECT_EQ(m.topic(), "TopicR");
  EXPECT_EQ(m.body(), "first");
  EXPECT_EQ(m.tags(), "TagA");
  EXPECT_EQ(m.keys(), "k1");
  EXPECT_EQ(m.properties().size(), 2u);
  EXPECT_EQ(m.flag(), 7);
  EXPECT_EQ(m.queue_id(), 3);
  EXPECT_EQ(m.queue_offset(), 5);
  EXPECT_EQ(m.commit_log_offset(), 1000);
  EXPECT_EQ(m.born_timestamp(), 1700000000001);
  EXPECT_EQ(m.born_host(), "10.0.0.1:5555");
  EXPECT_EQ(m.store_timestamp(), 1700000000002);
  EXPECT_EQ(m.store_host(), "127.0.0.1:10911");
  EXPECT_EQ(m.reconsume_times(), 2);
  EXPECT_EQ(m.store_size(), 91 + 5 + 6 + 18);
  EXPECT_EQ(m.offset_msg_id(), "7F00000100002A9F00000000000003E8");  // 127.0.0.1:10911 at offset 1000
  EXPECT_EQ(out[1].queue_offset(), 6);
  EXPECT_TRUE(out[1].body().empty());

  std::string unset_host = testkit::make_record("b", "T", "");
  testkit::put64(&unset_host, 48, 0);  // born host 0.0.0.0:0: a sender that did not say
  response.__set_records(unset_host);
  out.clear();
  ASSERT_EQ(messages_from_pull(response, &out), "");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].born_host(), "");  // as the broker's own conversion of an unset host
  EXPECT_EQ(out[0].store_host(), "127.0.0.1:10911");
}

TEST(WireConvert, PullWithoutRecordsConvertsItsMessages) {
  wire::PullResponse response;
  wire::MessageExt stored;
  stored.topic = "T";
  stored.body = "b";
  stored.queueOffset = 9;
  response.messages.push_back(stored);
  std::vector<MessageExt> out;
  ASSERT_EQ(messages_from_pull(response, &out), "");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body(), "b");
  EXPECT_EQ(out[0].queue_offset(), 9);
}

TEST(WireConvert, MalformedPullRecordsAreNamedKeepingTheMessagesBefore) {
  const std::string good = testkit::make_record("ok", "T", "");
  wire::PullResponse cut;
  cut.__set_records(good + good.substr(0, good.size() - 1));
  std::vector<MessageExt> out;
  std::string why = messages_from_pull(cut, &out);
  EXPECT_NE(why.find("message record 1"), std::string::npos) << why;
  EXPECT_NE(why.find("impossible"), std::string::npos) << why;
  EXPECT_EQ(out.size(), 1u);

  wire::PullResponse props;
  props.__set_records(testkit::make_record("x", "T", "NAME-WITHOUT-VALUE\x02"));
  out.clear();
  why = messages_from_pull(props, &out);
  EXPECT_NE(why.find("message record 0"), std::string::npos) << why;
  EXPECT_NE(why.find("properties"), std::string::npos) << why;
  EXPECT_TRUE(out.empty());
}

TEST(WireConvert, BatchRequestIsEncodedWithEveryOtherFieldKept) {
  wire::SendRequest req;
  req.producerGroup = "PG";
  req.topic = "T";
  req.queueId = 3;
  req.bornTimestamp = 77;
  req.bornHost = "10.0.0.1:5";
  req.sysFlag = 2;
  req.reconsumeTimes = 1;
  req.__set_clientVersion(1);
  for (int i = 0; i < 3; ++i) {
    wire::Message m;
    m.topic = "T";
    m.flag = i;
    m.body = "body" + std::to_string(i);
    m.properties["TAGS"] = "Tag" + std::to_string(i);
    m.properties["UNIQ_KEY"] = "ID" + std::to_string(i);
    req.messages.push_back(m);
  }
  const wire::SendRequest enc = encoded_batch_request(req);
  EXPECT_TRUE(enc.messages.empty());
  EXPECT_EQ(enc.producerGroup, "PG");
  EXPECT_EQ(enc.topic, "T");
  EXPECT_EQ(enc.queueId, 3);
  EXPECT_EQ(enc.bornTimestamp, 77);
  EXPECT_EQ(enc.bornHost, "10.0.0.1:5");
  EXPECT_EQ(enc.sysFlag, 2);
  EXPECT_EQ(enc.reconsumeTimes, 1);
  EXPECT_TRUE(enc.__isset.clientVersion);
  ASSERT_TRUE(enc.__isset.encodedMessages);
  std::vector<batch::EncodedMessage> parsed;
  ASSERT_EQ(batch::parse_encoded_batch(enc.encodedMessages, &parsed), "");
  ASSERT_EQ(parsed.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed[i].flag, i);
    EXPECT_EQ(parsed[i].body, "body" + std::to_string(i));
    EXPECT_EQ(parsed[i].properties,
              "TAGS\x01Tag" + std::to_string(i) + "\x02UNIQ_KEY\x01ID" + std::to_string(i) + "\x02");
  }
}

TEST(WireConvert, AnOlderBrokerIsRecognisedByItsAnswerToAnEncodedBatch) {
  wire::SendResponse old;  // what a broker without encodedMessages answers (it sees no messages)
  old.code = 29;
  old.remark = "send to topic 'T' carries no message";
  EXPECT_TRUE(predates_encoded_batches(old));
  wire::SendResponse other = old;
  other.remark = "queue id 9 is out of range for topic 'T'";
  EXPECT_FALSE(predates_encoded_batches(other));
  other = old;
  other.code = 13;
  EXPECT_FALSE(predates_encoded_batches(other));
}

TEST(WireConvert, BatchResultsComeFromTheBatchFormOrFromResults) {
  std::vector<wire::Message> sent(3);
  sent[0].properties["UNIQ_KEY"] = "MINE-0";
  sent[2].properties["UNIQ_KEY"] = "MINE-2";
  wire::SendResponse resp;
  resp.code = 0;
  resp.queueId = 1;
  wire::SendBatchResult b;
  b.firstQueueOffset = 40;
  b.commitLogOffsets = {1000, 1100, 1250};
  b.storeHost = "127.0.0.1:10911";
  b.assignedMsgIds[1] = "BROKER-1";
  resp.__set_batch(b);
  const SendResult head = send_result_from_wire(resp, MessageQueue{"T", "b", 1}, "MINE-0");
  EXPECT_EQ(head.queue_offset, 40);
  EXPECT_EQ(head.offset_msg_id, make_offset_msg_id(HostAddress{0x7F000001, 10911}, CommitLogOffset(1000)));
  std::vector<SendResult> items = batch_results_from_wire(resp, head, sent);
  ASSERT_EQ(items.size(), 3u);
  const char* ids[] = {"MINE-0", "BROKER-1", "MINE-2"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(items[i].msg_id, ids[i]);
    EXPECT_EQ(items[i].queue_offset, 40 + i);
    EXPECT_EQ(items[i].offset_msg_id,
              make_offset_msg_id(HostAddress{0x7F000001, 10911}, CommitLogOffset(b.commitLogOffsets[i])));
    EXPECT_EQ(items[i].message_queue.queue_id, 1);
  }
  // A reply naming fewer messages, or with a store host that is not ip:port, leaves the gaps empty.
  b.commitLogOffsets.resize(2);
  b.storeHost = "not-a-host";
  resp.__set_batch(b);
  items = batch_results_from_wire(resp, head, sent);
  EXPECT_EQ(items[1].queue_offset, 41);
  EXPECT_EQ(items[1].offset_msg_id, "");
  EXPECT_EQ(items[2].queue_offset, -1);

  wire::SendResponse old;  // a broker answering per message
  old.code = 0;
  for (int i = 0; i < 2; ++i) {
    wire::SendResultItem item;
    item.msgId = i == 1 ? "BROKER-1" : "";
    item.offsetMsgId = "OFF" + std::to_string(i);
    item.queueOffset = 7 + i;
    old.results.push_back(item);
  }
  items = batch_results_from_wire(old, head, sent);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].msg_id, "MINE-0");
  EXPECT_EQ(items[1].msg_id, "BROKER-1");
  EXPECT_EQ(items[1].offset_msg_id, "OFF1");
  EXPECT_EQ(items[2].queue_offset, -1);
}

}  // namespace
}  // namespace mq::client
