// BrokerCore subscription groups (validation, listing, persistence, auto-create on
// heartbeat and pull, SUBSCRIPTION_GROUP_NOT_EXIST, consumeEnable=false) and SQL92 pulls.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/core_fixture.h"

namespace mq::test {
namespace {

class BrokerSubscriptionGroupTest : public CoreFixture {
 protected:
  std::vector<std::string> group_names() {
    std::vector<std::string> out;
    for (const auto& g : core_->subscription_groups()) out.push_back(g.group_name);
    return out;
  }
};

TEST_F(BrokerSubscriptionGroupTest, UpdateValidatesListsAndPersists) {
  start();
  SubscriptionGroupConfig c;
  c.group_name = "bad name";
  EXPECT_EQ(core_->update_subscription_group(c).code(), Code::kInvalidParameter);
  c.group_name = "G";
  c.retry_queue_nums = -1;
  Status st = core_->update_subscription_group(c);
  EXPECT_EQ(st.code(), Code::kInvalidParameter);
  EXPECT_NE(st.message().find("retryQueueNums"), std::string::npos) << st.message();
  c.retry_queue_nums = 2;
  c.retry_max_times = -2;
  EXPECT_EQ(core_->update_subscription_group(c).code(), Code::kInvalidParameter);
  c.retry_max_times = 3;
  c.consume_enable = false;
  c.consume_message_orderly = true;
  ASSERT_TRUE(core_->update_subscription_group(c).is_ok());
  ASSERT_EQ(core_->subscription_groups().size(), 1u);
  EXPECT_EQ(core_->subscription_groups()[0], c);

  restart();
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "config" / "subscriptionGroup.json"));
  ASSERT_EQ(core_->subscription_groups().size(), 1u);
  EXPECT_EQ(core_->subscription_groups()[0], c);
}

TEST_F(BrokerSubscriptionGroupTest, BadFileRefusesStartNamingFileAndKey) {
  std::filesystem::create_directories(dir_.path() / "config");
  const auto file = dir_.path() / "config" / "subscriptionGroup.json";
  {
    std::ofstream out(file);
    out << R"({"subscriptionGroupTable": {"G": {"groupName": "G", "retryQueueNums": -3}}})";
  }
  auto store = std::make_shared<FakeMessageStore>();
  kernel::BrokerCore core(test_settings(dir_.path()), store, quiet_logger());
  Status st = core.start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(file.string()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("retryQueueNums"), std::string::npos) << st.message();
}

TEST_F(BrokerSubscriptionGroupTest, AutoCreatedOnHeartbeatAndPull) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 1, 1, 6}).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G1")).is_ok());
  auto pull = make_pull("T", 0, 0);
  pull.consumer_group = "G2";
  EXPECT_EQ(pull_sync(*core_, pull).status.code(), Code::kPullNotFound);
  EXPECT_EQ(group_names(), (std::vector<std::string>{"G1", "G2"}));
}

TEST_F(BrokerSubscriptionGroupTest, UnknownGroupRefusedWithoutAutoCreate) {
  auto s = test_settings(dir_.path());
  s.auto_create_subscription_group = false;
  start(s);
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 1, 1, 6}).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G1")).is_ok());
  EXPECT_TRUE(core_->subscription_groups().empty());
  auto pull = make_pull("T", 0, 0);
  pull.consumer_group = "G1";
  auto r = pull_sync(*core_, pull);
  EXPECT_EQ(r.status.code(), Code::kSubscriptionGroupNotExist);
  EXPECT_NE(r.status.message().find("'G1'"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("updateSubGroup"), std::string::npos) << r.status.message();
  SubscriptionGroupConfig c;
  c.group_name = "G1";
  ASSERT_TRUE(core_->update_subscription_group(c).is_ok());
  EXPECT_EQ(pull_sync(*core_, pull).status.code(), Code::kPullNotFound);
}

TEST_F(BrokerSubscriptionGroupTest, ConsumeDisabledGroupGetsNoPermission) {
  start();
  send_n("T", 0, 1);
  SubscriptionGroupConfig c;
  c.group_name = "G";
  c.consume_enable = false;
  ASSERT_TRUE(core_->update_subscription_group(c).is_ok());
  auto pull = make_pull("T", 0, 0);
  pull.consumer_group = "G";
  EXPECT_EQ(pull_sync(*core_, pull).status.code(), Code::kNoPermission);
  c.consume_enable = true;
  ASSERT_TRUE(core_->update_subscription_group(c).is_ok());
  EXPECT_EQ(pull_sync(*core_, pull).messages.size(), 1u);
}

TEST_F(BrokerSubscriptionGroupTest, Sql92PullFiltersOnProperties) {
  start();
  send_n("T", 0, 6);  // n = 0..5
  auto pull = make_pull("T", 0, 0, 0, "n > 1 AND n <= 4");
  pull.expression_type = "SQL92";
  auto r = pull_sync(*core_, pull);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].body, "m2");
  EXPECT_EQ(r.messages[2].body, "m4");

  pull.subscription = "n IN ('0', '5') OR missing IS NOT NULL";
  r = pull_sync(*core_, pull);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].body, "m5");

  pull.subscription = "n = 9";  // nothing matches: retry from the end of the scanned range
  r = pull_sync(*core_, pull);
  EXPECT_EQ(r.status.code(), Code::kPullRetryImmediately);

  pull.subscription = "n >";
  r = pull_sync(*core_, pull);
  EXPECT_EQ(r.status.code(), Code::kSubscriptionParseFailed);
  EXPECT_NE(r.status.message().find("position 4"), std::string::npos) << r.status.message();

  pull.subscription = "n > 1";
  pull.expression_type = "XPATH";
  EXPECT_EQ(pull_sync(*core_, pull).status.code(), Code::kSubscriptionParseFailed);
}

TEST_F(BrokerSubscriptionGroupTest, Sql92LongPollWakesOnMatchingArrival) {
  start();
  send_n("T", 0, 1);
  auto pull = make_pull("T", 0, 1, 5000, "n = 0");
  pull.expression_type = "sql92";
  auto f = pull_async(*core_, pull);
  send_n("T", 0, 1, "late");  // n = 0 again
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "late0");
}

}  // namespace
}  // namespace mq::test
