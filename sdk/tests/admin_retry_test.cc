// mqadmin retry / DLQ / scheduled-message commands: argument parsing, DLQ message matching and
// the message built to resend a dead-letter record.
#include <gtest/gtest.h>

#include "admin_args.h"
#include "admin_retry_commands.h"

namespace mq::admin {
namespace {

wire::MessageExt dlq_record() {
  wire::MessageExt m;
  m.topic = "%DLQ%G";
  m.flag = 7;
  m.body = "payload";
  m.offsetMsgId = "7F00000100002A9F0000000000001000";
  m.properties = {{"TAGS", "TagA"},
                  {"KEYS", "k1 k2"},
                  {"UNIQ_KEY", "RETRYID"},
                  {"RETRY_TOPIC", "Orders"},
                  {"ORIGIN_MESSAGE_ID", "FIRSTID"},
                  {"DELAY", "5"},
                  {"REAL_TOPIC", "%RETRY%G"},
                  {"REAL_QID", "0"},
                  {"MAX_RECONSUME_TIMES", "2"},
                  {"user", "v"}};
  return m;
}

TEST(AdminRetry, ParsesTheNewCommands) {
  auto q = parse_admin_args({"queryDlqMessage", "-g", "G", "-c", "5", "--json"});
  ASSERT_TRUE(q.ok) << q.error;
  EXPECT_EQ(q.args.get('g'), "G");
  EXPECT_EQ(q.args.get_int('c', 128), 5);
  EXPECT_TRUE(q.args.json);
  EXPECT_FALSE(parse_admin_args({"queryDlqMessage"}).ok);  // -g is required
  EXPECT_FALSE(parse_admin_args({"resendDlqMessage", "-g", "G", "-c", "x"}).ok);
  EXPECT_TRUE(parse_admin_args({"resendDlqMessage", "-g", "G", "-i", "ABC"}).ok);
  EXPECT_FALSE(parse_admin_args({"cancelScheduledMessage", "-t", "T"}).ok);  // -i is required
  EXPECT_TRUE(parse_admin_args({"cancelScheduledMessage", "-t", "T", "-i", "ID"}).ok);
}

TEST(AdminRetry, SendMessageScheduleOptions) {
  auto r = parse_admin_args({"sendMessage", "-t", "T", "-p", "x", "-l", "3"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.args.get_int('l', 0), 3);
  EXPECT_TRUE(parse_admin_args({"sendMessage", "-t", "T", "-p", "x", "-a", "1700000000000"}).ok);
  EXPECT_TRUE(parse_admin_args({"sendMessage", "-t", "T", "-p", "x", "-d", "1500"}).ok);
  EXPECT_FALSE(parse_admin_args({"sendMessage", "-t", "T", "-p", "x", "-d", "soon"}).ok);
  auto both = parse_admin_args({"sendMessage", "-t", "T", "-p", "x", "-l", "3", "-d", "10"});
  EXPECT_FALSE(both.ok);
  EXPECT_NE(both.error.find("at most one"), std::string::npos) << both.error;
}

TEST(AdminRetry, DlqMessageMatching) {
  auto m = dlq_record();
  EXPECT_TRUE(dlq_message_matches(m, ""));
  EXPECT_TRUE(dlq_message_matches(m, "RETRYID"));
  EXPECT_TRUE(dlq_message_matches(m, "FIRSTID"));
  EXPECT_TRUE(dlq_message_matches(m, "7F00000100002A9F0000000000001000"));
  EXPECT_FALSE(dlq_message_matches(m, "OTHER"));
}

TEST(AdminRetry, ResendRestoresTheOriginalMessage) {
  client::Message out;
  std::string why;
  ASSERT_TRUE(message_to_resend(dlq_record(), &out, &why)) << why;
  EXPECT_EQ(out.topic(), "Orders");
  EXPECT_EQ(out.body(), "payload");
  EXPECT_EQ(out.flag(), 7);
  EXPECT_EQ(out.tags(), "TagA");
  EXPECT_EQ(out.keys(), "k1 k2");
  EXPECT_EQ(out.property("user"), "v");
  EXPECT_EQ(out.property("UNIQ_KEY"), "FIRSTID");
  for (const char* gone :
       {"RETRY_TOPIC", "ORIGIN_MESSAGE_ID", "DELAY", "REAL_TOPIC", "REAL_QID", "MAX_RECONSUME_TIMES"}) {
    EXPECT_EQ(out.properties().count(gone), 0u) << gone;
  }
  auto plain = dlq_record();
  plain.properties.erase("RETRY_TOPIC");
  EXPECT_FALSE(message_to_resend(plain, &out, &why));
  EXPECT_NE(why.find("RETRY_TOPIC"), std::string::npos) << why;
}

}  // namespace
}  // namespace mq::admin
