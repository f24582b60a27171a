// The pull answer's slave suggestion (RocketMQ suggestWhichBrokerId): a consumer whose unread
// commit-log bytes exceed accessMessageInMemoryMaxRatio % of memory is sent to its group's
// which_broker_when_consume_slowly; otherwise to the group's broker_id (the master).
#include <gtest/gtest.h>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include "broker/broker_core.h"
#include "config/broker_options.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

constexpr int64_t kMemory = 100000;  // bytes; with ratio 40 a consumer may be 40,000 bytes behind

class BrokerPullSuggestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<FakeMessageStore>();
    kernel::BrokerSettings settings = test_settings(dir_.path());
    settings.total_memory_bytes = kMemory;
    settings.access_message_in_memory_max_ratio = 40;
    core_ = std::make_unique<kernel::BrokerCore>(settings, store_, quiet_logger());
    ASSERT_TRUE(core_->start().is_ok());
    ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 1, 1, kPermRead | kPermWrite}).is_ok());
    // 100 messages of 1 KiB: about 100 KiB of commit log.
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message(std::string(1024, 'x'))}, 0)).status.is_ok());
  }
  void TearDown() override { core_->stop(); }

  PullResponse pull_one(const std::string& group, int64_t offset) {
    PullRequest request = make_pull("T", 0, offset);
    request.consumer_group = group;
    request.max_msgs = 1;
    return pull_sync(*core_, request);
  }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerPullSuggestTest, FarBehindIsSentToTheSlowConsumerBroker) {
  auto r = pull_one("G", 0);  // ~99 KiB unread after this message
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.suggest_which_broker_id, 1);  // default which_broker_when_consume_slowly

  auto near = pull_one("G", 90);  // ~9 KiB unread: read from the master
  ASSERT_TRUE(near.status.is_ok());
  EXPECT_EQ(near.suggest_which_broker_id, 0);
  EXPECT_EQ(pull_one("G", 99).suggest_which_broker_id, 0);  // the last message
}

TEST_F(BrokerPullSuggestTest, TheGroupConfigDecidesWhichBroker) {
  SubscriptionGroupConfig stay;
  stay.group_name = "Stay";
  stay.which_broker_when_consume_slowly = 0;  // never leave the master
  ASSERT_TRUE(core_->update_subscription_group(stay).is_ok());
  EXPECT_EQ(pull_one("Stay", 0).suggest_which_broker_id, 0);

  SubscriptionGroupConfig second;
  second.group_name = "Second";
  second.which_broker_when_consume_slowly = 2;
  ASSERT_TRUE(core_->update_subscription_group(second).is_ok());
  EXPECT_EQ(pull_one("Second", 0).suggest_which_broker_id, 2);
  EXPECT_EQ(pull_one("Second", 99).suggest_which_broker_id, 0);
}

TEST_F(BrokerPullSuggestTest, NoGroupOrNoMessageSuggestsTheMaster) {
  EXPECT_EQ(pull_one("", 0).suggest_which_broker_id, 0);  // a tool pull
  auto none = pull_one("G", 100);                         // nothing new
  EXPECT_EQ(none.status.code(), Code::kPullNotFound);
  EXPECT_EQ(none.suggest_which_broker_id, 0);
}

TEST(BrokerPullSuggestConfig, RatioIsReadAndRangeChecked) {
  namespace po = boost::program_options;
  auto parse = [](std::vector<std::string> args) {
    po::options_description description = kernel::broker_global_options("plugins");
    args.push_back("--plugins=storage-mmap");
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(description).run(), vm);
    po::notify(vm);
    return kernel::broker_config_from(vm);
  };
  auto defaults = parse({});
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().to_string();
  EXPECT_EQ(defaults->settings.access_message_in_memory_max_ratio, 40);
  auto set = parse({"--accessMessageInMemoryMaxRatio=0"});
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->settings.access_message_in_memory_max_ratio, 0);
  auto bad = parse({"--accessMessageInMemoryMaxRatio=101"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("accessMessageInMemoryMaxRatio"), std::string::npos);
}

}  // namespace
}  // namespace mq::test
