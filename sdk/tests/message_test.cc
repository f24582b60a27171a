// Message value semantics, MessageExt fields, MessageQueue ordering/hash and wire conversion.
#include <unordered_set>

#include <gtest/gtest.h>

#include "mq/client/message.h"
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

}  // namespace
}  // namespace mq::client
