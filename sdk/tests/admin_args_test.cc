// mqadmin argument parsing: accepted forms and every kind of usage error.
#include <gtest/gtest.h>

#include "admin_args.h"
#include "table.h"

#include <sstream>

namespace mq::admin {
namespace {

ParseResult parse(std::vector<std::string> args) { return parse_admin_args(args); }

TEST(AdminArgs, ParsesFlagsWithValues) {
  auto r = parse({"updateTopic", "-n", "127.0.0.1:9876", "-t", "TopicA", "-r", "4", "-w", "2", "-c", "DefaultCluster"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.args.command, "updateTopic");
  EXPECT_EQ(r.args.get('n'), "127.0.0.1:9876");
  EXPECT_EQ(r.args.get('t'), "TopicA");
  EXPECT_EQ(r.args.get_int('r', 8), 4);
  EXPECT_EQ(r.args.get_int('w', 8), 2);
  EXPECT_EQ(r.args.get_int('p', 6), 6);  // absent: fallback
  EXPECT_EQ(r.args.get('c'), "DefaultCluster");
}

TEST(AdminArgs, AcceptsAttachedValues) {
  auto r = parse({"topicRoute", "-tTopicA"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.args.get('t'), "TopicA");
}

TEST(AdminArgs, RejectsUnknownCommand) {
  auto r = parse({"deleteEverything"});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("deleteEverything"), std::string::npos);
  EXPECT_FALSE(parse({}).ok);
}

TEST(AdminArgs, RejectsUnknownFlagMissingValueAndMissingRequired) {
  auto unknown = parse({"topicList", "-t", "x"});
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.error.find("-t"), std::string::npos);
  auto long_flag = parse({"topicList", "--verbose"});
  EXPECT_FALSE(long_flag.ok);
  auto missing_value = parse({"topicRoute", "-t"});
  EXPECT_FALSE(missing_value.ok);
  EXPECT_NE(missing_value.error.find("needs a value"), std::string::npos);
  auto missing_required = parse({"sendMessage", "-t", "T"});
  EXPECT_FALSE(missing_required.ok);
  EXPECT_NE(missing_required.error.find("-p"), std::string::npos);
  auto stray = parse({"clusterList", "extra"});
  EXPECT_FALSE(stray.ok);
}

TEST(AdminArgs, ChecksNumericFlagsAndCombinations) {
  auto bad_number = parse({"updateTopic", "-t", "T", "-r", "four"});
  EXPECT_FALSE(bad_number.ok);
  EXPECT_NE(bad_number.error.find("integer"), std::string::npos);
  EXPECT_FALSE(parse({"sendMessage", "-t", "T", "-p", "x", "-i", "1"}).ok);  // -i needs -b
  EXPECT_TRUE(parse({"sendMessage", "-t", "T", "-p", "x", "-b", "broker-a", "-i", "1"}).ok);
  EXPECT_FALSE(parse({"updateTopic", "-t", "T", "-b", "h:1", "-c", "C"}).ok);
  EXPECT_FALSE(parse({"consumeMessage", "-t", "T", "-c", "x"}).ok);  // -c is a count here
  auto tags = parse({"sendMessage", "-t", "T", "-p", "body", "-c", "TagA", "-k", "k1 k2"});
  ASSERT_TRUE(tags.ok) << tags.error;  // ... and tags for sendMessage
  EXPECT_EQ(tags.args.get('c'), "TagA");
  EXPECT_EQ(tags.args.get('k'), "k1 k2");
}

TEST(AdminArgs, HelpTakesAnOptionalCommand) {
  auto plain = parse({"help"});
  ASSERT_TRUE(plain.ok);
  EXPECT_TRUE(plain.args.positional.empty());
  auto one = parse({"help", "consumerProgress"});
  ASSERT_TRUE(one.ok);
  ASSERT_EQ(one.args.positional.size(), 1u);
  EXPECT_EQ(one.args.positional[0], "consumerProgress");
}

TEST(AdminArgs, UsageListsEveryCommand) {
  std::string usage = usage_text();
  for (const auto& spec : command_specs()) {
    EXPECT_NE(usage.find(spec.name), std::string::npos) << spec.name;
    std::string one = command_usage(spec);
    for (char flag : spec.required) EXPECT_NE(one.find(std::string("-") + flag + " <v>"), std::string::npos);
  }
}

TEST(Table, AlignsColumns) {
  Table t({"#A", "#Long header"});
  t.add_row({"value-longer", "1"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(), "#A            #Long header\nvalue-longer  1\n");
}

}  // namespace
}  // namespace mq::admin
