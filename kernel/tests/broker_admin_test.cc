// BrokerCore admin/client side: heartbeats and expiry, consumer offsets API, topic
// validation, consume stats and runtime info.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "broker/broker_core.h"
#include "broker/tag_filter.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"
#include "support/tag_expression_cases.h"

namespace mq::test {
namespace {

using namespace std::chrono_literals;

HeartbeatRequest consumer_heartbeat(const std::string& client, const std::string& group) {
  HeartbeatRequest h;
  h.client_id = client;
  ConsumerData c;
  c.group = group;
  c.subscriptions.push_back(SubscriptionData{"T", "TAG", "*"});
  h.consumers.push_back(c);
  return h;
}

class BrokerAdminTest : public ::testing::Test {
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
  std::vector<std::string> ids(const std::string& group) {
    auto r = core_->consumer_ids(group);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() ? *r : std::vector<std::string>{};
  }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerAdminTest, HeartbeatListsConsumersSortedAndUnregisterRemoves) {
  start();
  ASSERT_TRUE(core_->heartbeat(consumer_heartbeat("c-2", "G")).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_heartbeat("c-1", "G")).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_heartbeat("c-3", "Other")).is_ok());
  HeartbeatRequest producer_only;
  producer_only.client_id = "p-1";
  producer_only.producer_groups = {"PG"};
  ASSERT_TRUE(core_->heartbeat(producer_only).is_ok());
  EXPECT_EQ(ids("G"), (std::vector<std::string>{"c-1", "c-2"}));
  EXPECT_EQ(ids("Other"), (std::vector<std::string>{"c-3"}));
  EXPECT_TRUE(ids("None").empty());
  ASSERT_TRUE(core_->unregister_client("c-1").is_ok());
  EXPECT_EQ(ids("G"), (std::vector<std::string>{"c-2"}));
  EXPECT_EQ(core_->heartbeat(HeartbeatRequest{}).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->heartbeat(consumer_heartbeat("c-9", "")).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->heartbeat(consumer_heartbeat("c-9", "white space")).code(), Code::kInvalidParameter);
}

TEST_F(BrokerAdminTest, ClientsWithoutHeartbeatExpire) {
  auto s = test_settings(dir_.path());
  s.client_channel_expired_ms = 300;
  start(s);
  ASSERT_TRUE(core_->heartbeat(consumer_heartbeat("silent", "G")).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_heartbeat("alive", "G")).is_ok());
  EXPECT_EQ(ids("G").size(), 2u);
  std::atomic<bool> done{false};
  std::thread beater([&] {
    while (!done) {
      (void)core_->heartbeat(consumer_heartbeat("alive", "G"));
      std::this_thread::sleep_for(30ms);
    }
  });
  bool expired = eventually([&] { return ids("G") == std::vector<std::string>{"alive"}; }, 5s);
  done = true;
  beater.join();
  EXPECT_TRUE(expired) << "the silent client was not expired";
  EXPECT_EQ(ids("G"), (std::vector<std::string>{"alive"}));
}

TEST_F(BrokerAdminTest, ConsumerOffsetApi) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, 6}).is_ok());
  EXPECT_EQ(core_->query_consumer_offset("g", "T", 0).status().code(), Code::kQueryNotFound);
  EXPECT_EQ(core_->update_consumer_offset("g", "T", 0, -1).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->update_consumer_offset("", "T", 0, 1).code(), Code::kInvalidParameter);
  Status bad_group = core_->update_consumer_offset("bad.group", "T", 0, 1);
  EXPECT_EQ(bad_group.code(), Code::kInvalidParameter);
  EXPECT_NE(bad_group.message().find("bad.group"), std::string::npos) << bad_group.message();
  ASSERT_TRUE(core_->update_consumer_offset("g", "T", 0, 5).is_ok());
  ASSERT_TRUE(core_->update_consumer_offset("g", "T", 0, 3).is_ok());  // may go back (reset)
  EXPECT_EQ(*core_->query_consumer_offset("g", "T", 0), 3);
  EXPECT_EQ(core_->query_consumer_offset("other", "T", 0).status().code(), Code::kQueryNotFound);
}

TEST_F(BrokerAdminTest, ConsumerOffsetNeedsAnExistingQueue) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, 6}).is_ok());
  Status unknown = core_->update_consumer_offset("g", "Nope", 0, 1);
  EXPECT_EQ(unknown.code(), Code::kTopicNotExist);
  EXPECT_NE(unknown.message().find("'Nope'"), std::string::npos) << unknown.message();
  EXPECT_EQ(core_->update_consumer_offset("g", "T", 2, 1).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->update_consumer_offset("g", "T", -1, 1).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->query_consumer_offset("g", "Nope", 0).status().code(), Code::kQueryNotFound);
  EXPECT_EQ(core_->query_consumer_offset("g", "T", 2).status().code(), Code::kQueryNotFound);

  // A pull's piggy-backed commit for an unknown topic is refused with the pull.
  PullRequest pull = make_pull("Nope", 0, 0);
  pull.consumer_group = "g";
  pull.commit_offset = 9;
  EXPECT_EQ(pull_sync(*core_, pull).status.code(), Code::kTopicNotExist);
  EXPECT_EQ(core_->query_consumer_offset("g", "Nope", 0).status().code(), Code::kQueryNotFound);
}

TEST_F(BrokerAdminTest, CreateTopicValidatesAndUpdates) {
  start();
  EXPECT_EQ(core_->create_topic(TopicConfig{"bad name", 4, 4, 6}).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->create_topic(TopicConfig{"T", 0, 4, 6}).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->create_topic(TopicConfig{"T", 4, 1025, 6}).code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->create_topic(TopicConfig{"T", 4, 4, 16}).code(), Code::kInvalidParameter);
  EXPECT_TRUE(core_->topics().empty());
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 1024, 1, 6}).is_ok());
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 8, 8, kPermRead}).is_ok());
  auto topics = core_->topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0], (TopicConfig{"T", 8, 8, kPermRead}));
}

TEST_F(BrokerAdminTest, ConsumeStatsPerQueue) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 3, 3, 6}).is_ok());
  ASSERT_TRUE(core_->create_topic(TopicConfig{"U", 1, 1, 6}).is_ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("x")}, 0)).status.is_ok());
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("x")}, 1)).status.is_ok());
  ASSERT_TRUE(send_sync(*core_, make_send("U", {make_message("x")}, 0)).status.is_ok());
  ASSERT_TRUE(core_->update_consumer_offset("G", "T", 0, 1).is_ok());
  ASSERT_TRUE(core_->update_consumer_offset("G", "U", 0, 1).is_ok());

  auto stats = core_->consume_stats("G", "T");
  ASSERT_TRUE(stats.is_ok()) << stats.status().to_string();
  ASSERT_EQ(stats->size(), 3u);
  EXPECT_EQ((*stats)[0].queue_id, 0);
  EXPECT_EQ((*stats)[0].broker_offset, QueueOffset(2));
  EXPECT_EQ((*stats)[0].consumer_offset, 1);
  EXPECT_EQ((*stats)[0].broker_name, "broker-test");
  EXPECT_EQ((*stats)[1].broker_offset, QueueOffset(1));
  EXPECT_EQ((*stats)[1].consumer_offset, -1);
  EXPECT_EQ((*stats)[2].broker_offset, QueueOffset(0));

  auto all = core_->consume_stats("G", "");
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 4u);  // T: 3 queues, U: 1 queue
  EXPECT_EQ((*all)[3].topic, "U");
  EXPECT_EQ((*all)[3].consumer_offset, 1);

  EXPECT_EQ(core_->consume_stats("G", "Missing").status().code(), Code::kTopicNotExist);
  auto none = core_->consume_stats("Nobody", "");
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(BrokerAdminTest, RuntimeInfoReportsIdentityAndStoreStats) {
  start();
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("x")})).status.is_ok());
  auto info = core_->runtime_info();
  EXPECT_EQ(info.at("brokerName"), "broker-test");
  EXPECT_EQ(info.at("brokerId"), "0");
  EXPECT_EQ(info.at("brokerAddr"), "127.0.0.1:10911");
  EXPECT_EQ(info.at("putCount"), "1");
  EXPECT_EQ(info.at("topicCount"), "1");
  EXPECT_GT(std::stoll(info.at("maxCommitLogOffset")), 0);
  EXPECT_GT(std::stoll(info.at("bootTime")), 0);
  EXPECT_FALSE(info.at("version").empty());
  EXPECT_EQ(info.at("dispatchedOffset"), info.at("maxCommitLogOffset"));
  EXPECT_EQ(info.at("dispatchBehindBytes"), "0");
  store_->set_dispatch_lag(7);
  info = core_->runtime_info();
  EXPECT_EQ(std::stoll(info.at("dispatchedOffset")), std::stoll(info.at("maxCommitLogOffset")) - 7);
  EXPECT_EQ(info.at("dispatchBehindBytes"), "7");
}

TEST(TagFilterTest, ParsesAndMatches) {
  auto any = kernel::TagFilter::parse(" * ");
  ASSERT_TRUE(any.is_ok());
  EXPECT_TRUE(any->match_all());
  auto f = kernel::TagFilter::parse("TagA||TagB ||  TagC");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->tags().size(), 3u);
  EXPECT_TRUE(f->match_tag_hash(tag_hash("TagB")));
  EXPECT_FALSE(f->match_tag_hash(tag_hash("TagD")));
  StoredMessage m;
  m.set_property(prop::kTags, "TagC");
  EXPECT_TRUE(f->match_message(m));
  m.set_property(prop::kTags, "TagCC");
  EXPECT_FALSE(f->match_message(m));
  StoredMessage untagged;
  EXPECT_FALSE(f->match_message(untagged));
  EXPECT_TRUE(any->match_message(untagged));
  EXPECT_EQ(kernel::TagFilter::parse("A ||| B").status().code(), Code::kSubscriptionParseFailed);
}

// Same table as the SDK's TagFilter test: both sides accept and reject the same inputs.
TEST(TagFilterTest, SharedExpressionTable) {
  for (const auto& c : tag_cases::kTagExpressionCases) {
    auto parsed = kernel::TagFilter::parse(c.expression);
    ASSERT_EQ(parsed.is_ok(), c.valid) << "'" << c.expression << "'";
    if (!c.valid) {
      EXPECT_EQ(parsed.status().code(), Code::kSubscriptionParseFailed) << "'" << c.expression << "'";
      EXPECT_NE(parsed.status().message().find(c.expression), std::string::npos) << parsed.status().message();
      continue;
    }
    std::string tags;
    if (parsed->match_all()) {
      tags = "*";
    } else {
      for (const auto& t : parsed->tags()) tags += (tags.empty() ? "" : ",") + t;
    }
    EXPECT_EQ(tags, c.tags) << "'" << c.expression << "'";
  }
}

}  // namespace
}  // namespace mq::test
