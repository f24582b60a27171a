// mqadmin issue-4 commands: parsing of the new commands and --json, the offsetMsgId decoder,
// and the shape of the text / JSON reports built from broker answers.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "admin_args.h"
#include "admin_render.h"
#include "report.h"

namespace mq::admin {
namespace {

ParseResult parse(std::vector<std::string> args) { return parse_admin_args(args); }

TEST(AdminArgsV2, NewCommandsParse) {
  EXPECT_TRUE(parse({"deleteTopic", "-t", "T"}).ok);
  EXPECT_FALSE(parse({"deleteTopic", "-t", "T", "-b", "h:1", "-c", "C"}).ok);
  auto sub = parse({"updateSubGroup", "-g", "G", "-o", "true", "-r", "3"});
  ASSERT_TRUE(sub.ok) << sub.error;
  EXPECT_EQ(sub.args.get_int('r', 16), 3);
  EXPECT_FALSE(parse({"updateSubGroup", "-g", "G", "-o", "yes"}).ok);
  EXPECT_TRUE(parse({"queryMsgById", "-i", std::string(32, 'A')}).ok);
  EXPECT_FALSE(parse({"queryMsgByKey", "-t", "T"}).ok);  // -k required
  EXPECT_TRUE(parse({"queryMsgByKey", "-t", "T", "-k", "order-1"}).ok);
  EXPECT_TRUE(parse({"queryMsgByOffset", "-t", "T", "-b", "broker-a", "-i", "0", "-o", "5"}).ok);
  EXPECT_FALSE(parse({"queryMsgByOffset", "-t", "T", "-b", "broker-a", "-i", "x", "-o", "5"}).ok);
  EXPECT_TRUE(parse({"resetOffsetByTime", "-g", "G", "-t", "T", "-s", "now"}).ok);
  EXPECT_TRUE(parse({"resetOffsetByTime", "-g", "G", "-t", "T", "-s", "1700000000000"}).ok);
  auto bad_time = parse({"resetOffsetByTime", "-g", "G", "-t", "T", "-s", "yesterday"});
  EXPECT_FALSE(bad_time.ok);
  EXPECT_NE(bad_time.error.find("now"), std::string::npos);
  EXPECT_TRUE(parse({"brokerStatus", "-b", "127.0.0.1:10911"}).ok);
  EXPECT_FALSE(parse({"brokerStatus"}).ok);
  EXPECT_TRUE(parse({"consumerConnection", "-g", "G"}).ok);
  EXPECT_FALSE(parse({"producerConnection", "-g", "G"}).ok);  // -t required
}

TEST(AdminArgsV2, JsonFlagAnywhere) {
  auto a = parse({"brokerStatus", "--json", "-b", "h:1"});
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(a.args.json);
  auto b = parse({"topicList", "-n", "h:1", "--json"});
  ASSERT_TRUE(b.ok) << b.error;
  EXPECT_TRUE(b.args.json);
  EXPECT_FALSE(parse({"topicList"}).args.json);
  EXPECT_FALSE(parse({"topicList", "--jsn"}).ok);
  EXPECT_NE(usage_text().find("queryMsgByKey"), std::string::npos);
}

TEST(OffsetMsgId, DecodeAndEncode) {
  std::string id = encode_offset_msg_id(0x7F000001, 10911, 0x123456789A);
  EXPECT_EQ(id, "7F00000100002A9F000000123456789A");
  std::string addr;
  int64_t offset = 0;
  ASSERT_TRUE(decode_offset_msg_id(id, &addr, &offset));
  EXPECT_EQ(addr, "127.0.0.1:10911");
  EXPECT_EQ(offset, 0x123456789A);
  std::string lower = id;
  for (auto& c : lower) c = static_cast<char>(std::tolower(c));
  ASSERT_TRUE(decode_offset_msg_id(lower, &addr, &offset));
  EXPECT_EQ(offset, 0x123456789A);
  EXPECT_FALSE(decode_offset_msg_id(id.substr(1), &addr, &offset));            // short
  EXPECT_FALSE(decode_offset_msg_id("Z" + id.substr(1), &addr, &offset));      // not hex
  EXPECT_FALSE(decode_offset_msg_id(encode_offset_msg_id(1, 0, 5), &addr, &offset));  // port 0
}

wire::ConsumerConnectionResponse connection_answer(bool inconsistent) {
  wire::ConsumerConnectionResponse r;
  r.consumeType = "PUSH";
  r.messageModel = "CLUSTERING";
  r.consumeFromWhere = "CONSUME_FROM_LAST_OFFSET";
  wire::ConnectionInfo c;
  c.clientId = "10.0.0.1@1@0";
  c.clientAddr = "10.0.0.1:5000";
  c.version = 1;
  c.lastHeartbeatTimestamp = 1700000000000;
  r.connections.push_back(c);
  wire::SubscriptionData s;
  s.topic = "T";
  s.expression = "TagA";
  r.subscriptions.push_back(s);
  if (inconsistent) r.inconsistencies.push_back("10.0.0.2@2@0 subscribes T with 'TagB', others with 'TagA'");
  return r;
}

TEST(AdminReports, ConsumerConnectionJsonShape) {
  std::ostringstream out;
  consumer_connection_report("G", connection_answer(true)).print(out, true);
  nlohmann::json doc = nlohmann::json::parse(out.str());  // one JSON document
  EXPECT_EQ(doc["ConsumerGroup"], "G");
  EXPECT_EQ(doc["MessageModel"], "CLUSTERING");
  ASSERT_EQ(doc["connections"].size(), 1u);
  EXPECT_EQ(doc["connections"][0]["ClientId"], "10.0.0.1@1@0");
  EXPECT_EQ(doc["connections"][0]["Version"], 1);  // integers are numbers
  EXPECT_EQ(doc["subscriptions"][0]["Expression"], "TagA");
  EXPECT_EQ(doc["Consistent"], false);
  ASSERT_EQ(doc["INCONSISTENT"].size(), 1u);
  EXPECT_NE(doc["INCONSISTENT"][0]["Problem"].get<std::string>().find("TagB"), std::string::npos);
}

TEST(AdminReports, ConsumerConnectionTextShowsInconsistencyOnlyWhenReported) {
  std::ostringstream bad, good;
  consumer_connection_report("G", connection_answer(true)).print(bad, false);
  consumer_connection_report("G", connection_answer(false)).print(good, false);
  EXPECT_NE(bad.str().find("INCONSISTENT:"), std::string::npos);
  EXPECT_EQ(good.str().find("INCONSISTENT"), std::string::npos);
  EXPECT_NE(good.str().find("10.0.0.1:5000"), std::string::npos);
  EXPECT_NE(good.str().find("#ClientId"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(good.str(), nullptr, false).is_discarded());  // text is not JSON
}

TEST(AdminReports, MessageAndStatusReports) {
  wire::MessageExt m;
  m.topic = "T";
  m.queueId = 3;
  m.queueOffset = 17;
  m.body = "hello";
  m.properties["KEYS"] = "k1";
  m.properties["UNIQ_KEY"] = "ABC";
  std::ostringstream json_out;
  message_report("broker-a", m).print(json_out, true);
  auto doc = nlohmann::json::parse(json_out.str());
  EXPECT_EQ(doc["QueueOffset"], 17);
  EXPECT_EQ(doc["Keys"], "k1");
  EXPECT_EQ(doc["MsgId"], "ABC");
  EXPECT_EQ(doc["Body"], "hello");
  std::ostringstream list_out;
  message_list_report({{"broker-a", m}, {"broker-b", m}}).print(list_out, true);
  EXPECT_EQ(nlohmann::json::parse(list_out.str())["messages"].size(), 2u);
  wire::RuntimeInfoResponse info;
  info.info = {{"putTps", "12"}, {"brokerName", "broker-a"}};
  std::ostringstream text;
  broker_status_report("h:1", info).print(text, false);
  EXPECT_LT(text.str().find("brokerName"), text.str().find("putTps"));  // sorted keys
}

}  // namespace
}  // namespace mq::admin
