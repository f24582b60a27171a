// BrokerCore pull path: validation, GetStatus -> response code mapping and remarks,
// tag filtering and piggy-backed offset commits (no long polling: suspend 0).
#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "broker/broker_core.h"
#include "broker/pull_processor.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

class BrokerPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<FakeMessageStore>();
    core_ = std::make_unique<kernel::BrokerCore>(test_settings(dir_.path()), store_, quiet_logger());
    ASSERT_TRUE(core_->start().is_ok());
    ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, kPermRead | kPermWrite}).is_ok());
  }
  void TearDown() override { core_->stop(); }

  void send_tags(const std::vector<std::string>& tags, QueueId q = 0) {
    for (const auto& t : tags)
      ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("body-" + t, t)}, q)).status.is_ok());
  }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerPullTest, UnknownTopicIsTopicNotExist) {
  auto r = pull_sync(*core_, make_pull("Nope", 0, 0));
  EXPECT_EQ(r.status.code(), Code::kTopicNotExist);
  EXPECT_NE(r.status.message().find("Nope"), std::string::npos);
}

TEST_F(BrokerPullTest, QueueOutOfRangeIsInvalidParameter) {
  auto r = pull_sync(*core_, make_pull("T", 2, 0));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("0..1"), std::string::npos) << r.status.message();
  EXPECT_EQ(pull_sync(*core_, make_pull("T", -1, 0)).status.code(), Code::kInvalidParameter);
}

TEST_F(BrokerPullTest, UnreadableTopicIsNoPermission) {
  ASSERT_TRUE(core_->create_topic(TopicConfig{"WO", 1, 1, kPermWrite}).is_ok());
  EXPECT_EQ(pull_sync(*core_, make_pull("WO", 0, 0)).status.code(), Code::kNoPermission);
}

TEST_F(BrokerPullTest, FoundReturnsMessagesAndNextOffset) {
  send_tags({"a", "b", "c"});
  auto r = pull_sync(*core_, make_pull("T", 0, 0));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[2].body, "body-c");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(3));
  EXPECT_EQ(r.min_offset, QueueOffset(0));
  EXPECT_EQ(r.max_offset, QueueOffset(3));

  PullRequest small = make_pull("T", 0, 1);
  small.max_msgs = 1;
  r = pull_sync(*core_, small);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "body-b");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
}

TEST_F(BrokerPullTest, EmptyQueueAtZeroIsNotFound) {
  auto r = pull_sync(*core_, make_pull("T", 1, 0));
  EXPECT_EQ(r.status.code(), Code::kPullNotFound);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(0));
}

TEST_F(BrokerPullTest, EmptyQueueAtNonZeroIsOffsetMovedToZero) {
  auto r = pull_sync(*core_, make_pull("T", 1, 5));
  EXPECT_EQ(r.status.code(), Code::kPullOffsetMoved);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(0));
  EXPECT_NE(r.status.message().find("offset 5"), std::string::npos) << r.status.message();
}

TEST_F(BrokerPullTest, OffsetAtEndIsNotFound) {
  send_tags({"a", "b"});
  auto r = pull_sync(*core_, make_pull("T", 0, 2));
  EXPECT_EQ(r.status.code(), Code::kPullNotFound);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
  EXPECT_EQ(r.max_offset, QueueOffset(2));
}

TEST_F(BrokerPullTest, OffsetPastEndIsOffsetMovedToMax) {
  send_tags({"a", "b", "c"});
  auto r = pull_sync(*core_, make_pull("T", 0, 9));
  EXPECT_EQ(r.status.code(), Code::kPullOffsetMoved);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(3));
  EXPECT_NE(r.status.message().find("offset 9"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("[0, 3)"), std::string::npos) << r.status.message();
}

TEST_F(BrokerPullTest, HugeLimitsAreServedWithTheBrokerCaps) {
  send_tags({"a", "b", "c"});
  PullRequest req = make_pull("T", 0, 0);
  req.max_msgs = std::numeric_limits<int32_t>::max();
  req.max_bytes = std::numeric_limits<int32_t>::max();
  auto r = pull_sync(*core_, req);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.messages.size(), 3u);
  auto get = store_->last_get();
  ASSERT_TRUE(get);
  kernel::BrokerSettings defaults;
  EXPECT_EQ(get->max_count, defaults.pull_max_msg_nums);
  EXPECT_EQ(get->max_bytes, defaults.pull_max_bytes);

  // Smaller asks are kept.
  req.max_msgs = 2;
  req.max_bytes = 4096;
  r = pull_sync(*core_, req);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(store_->last_get()->max_count, 2);
  EXPECT_EQ(store_->last_get()->max_bytes, 4096);
}

TEST(BrokerPullCapsTest, ConfiguredCapsLimitWhatOnePullReturns) {
  TempDir dir;
  auto store = std::make_shared<FakeMessageStore>();
  auto s = test_settings(dir.path());
  s.pull_max_msg_nums = 2;
  s.pull_max_bytes = 1 << 20;
  kernel::BrokerCore core(s, store, quiet_logger());
  ASSERT_TRUE(core.start().is_ok());
  ASSERT_TRUE(core.create_topic(TopicConfig{"T", 1, 1, kPermRead | kPermWrite}).is_ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(send_sync(core, make_send("T", {make_message("m" + std::to_string(i))}, 0)).status.is_ok());
  PullRequest req = make_pull("T", 0, 0);
  req.max_msgs = 1000;
  auto r = pull_sync(core, req);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();  // served, not refused
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
  EXPECT_EQ(store->last_get()->max_bytes, 256 * 1024);  // the client's smaller value
  core.stop();
}

TEST_F(BrokerPullTest, StoreReadRunsOffTheCallingThread) {
  send_tags({"a"});
  // The caller stands for a transport io thread: the store must never be read on it.
  auto r = pull_sync(*core_, make_pull("T", 0, 0));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  auto get = store_->last_get();
  ASSERT_TRUE(get);
  EXPECT_NE(get->thread, std::this_thread::get_id());
  // Validation errors too are answered from the pull executor, never dropped.
  EXPECT_EQ(pull_sync(*core_, make_pull("T", 7, 0)).status.code(), Code::kInvalidParameter);
}

TEST_F(BrokerPullTest, OffsetBelowMinIsOffsetMovedToMin) {
  send_tags({"a", "b", "c", "d"});
  store_->truncate_below("T", 0, QueueOffset(2));
  auto r = pull_sync(*core_, make_pull("T", 0, 1));
  EXPECT_EQ(r.status.code(), Code::kPullOffsetMoved);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
  EXPECT_NE(r.status.message().find("[2, 4)"), std::string::npos) << r.status.message();
}

TEST_F(BrokerPullTest, StatusTableForRemainingStoreStatuses) {
  PullRequest req = make_pull("T", 0, 4);
  GetResult g;
  g.min_offset = QueueOffset(0);
  g.max_offset = QueueOffset(10);
  g.next_begin_offset = QueueOffset(5);
  g.status = GetStatus::kMessageWasRemoving;
  EXPECT_EQ(kernel::map_get_result(req, g).status.code(), Code::kPullRetryImmediately);
  g.status = GetStatus::kOffsetFoundNull;
  auto r = kernel::map_get_result(req, g);
  EXPECT_EQ(r.status.code(), Code::kPullNotFound);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(5));
  g.status = GetStatus::kNoMatchedLogicQueue;
  EXPECT_EQ(kernel::map_get_result(req, g).status.code(), Code::kPullOffsetMoved);
  req.queue_offset = QueueOffset(0);
  EXPECT_EQ(kernel::map_get_result(req, g).status.code(), Code::kPullNotFound);
}

TEST_F(BrokerPullTest, TagExpressionFiltersMessages) {
  send_tags({"TagA", "TagB", "TagC", "TagA"});
  auto r = pull_sync(*core_, make_pull("T", 0, 0, 0, "TagA || TagC"));
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].tags(), "TagA");
  EXPECT_EQ(r.messages[1].tags(), "TagC");
  EXPECT_EQ(r.messages[2].tags(), "TagA");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(4));

  EXPECT_EQ(pull_sync(*core_, make_pull("T", 0, 0, 0, "*")).messages.size(), 4u);
  EXPECT_EQ(pull_sync(*core_, make_pull("T", 0, 0, 0, "")).messages.size(), 4u);
}

TEST_F(BrokerPullTest, NoMatchingTagIsRetryImmediatelyPastTheScannedRange) {
  send_tags({"TagA", "TagB"});
  auto r = pull_sync(*core_, make_pull("T", 0, 0, 0, "TagX"));
  EXPECT_EQ(r.status.code(), Code::kPullRetryImmediately);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
  EXPECT_TRUE(r.messages.empty());
}

TEST_F(BrokerPullTest, MalformedExpressionIsSubscriptionParseFailed) {
  send_tags({"TagA"});
  for (const char* bad : {"TagA ||", "|| TagA", "TagA | TagB", "TagA TagB", "TagA || * "}) {
    auto r = pull_sync(*core_, make_pull("T", 0, 0, 0, bad));
    EXPECT_EQ(r.status.code(), Code::kSubscriptionParseFailed) << bad;
    EXPECT_NE(r.status.message().find(bad), std::string::npos) << r.status.message();
  }
}

TEST_F(BrokerPullTest, CommitOffsetIsStoredForTheGroup) {
  send_tags({"a", "b", "c"});
  PullRequest req = make_pull("T", 0, 2);
  req.commit_offset = 2;
  ASSERT_TRUE(pull_sync(*core_, req).status.is_ok());
  auto offset = core_->query_consumer_offset("test-consumer", "T", 0);
  ASSERT_TRUE(offset.is_ok());
  EXPECT_EQ(*offset, 2);
  // -1 means "do not commit".
  req.commit_offset = -1;
  req.queue_offset = QueueOffset(3);
  (void)pull_sync(*core_, req);
  EXPECT_EQ(*core_->query_consumer_offset("test-consumer", "T", 0), 2);
}

TEST_F(BrokerPullTest, InvalidGroupNameIsRejectedBeforeCommitting) {
  send_tags({"a"});
  PullRequest req = make_pull("T", 0, 0);
  req.consumer_group = "no spaces allowed";
  req.commit_offset = 1;
  auto r = pull_sync(*core_, req);
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("no spaces allowed"), std::string::npos) << r.status.message();
  EXPECT_EQ(core_->query_consumer_offset("no spaces allowed", "T", 0).status().code(), Code::kQueryNotFound);
}

TEST_F(BrokerPullTest, OffsetQueriesValidateTopicAndQueue) {
  send_tags({"a", "b"});
  EXPECT_EQ(*core_->max_offset("T", 0), QueueOffset(2));
  EXPECT_EQ(*core_->min_offset("T", 0), QueueOffset(0));
  EXPECT_EQ(*core_->search_offset_by_timestamp("T", 0, 0), QueueOffset(0));
  EXPECT_EQ(*core_->search_offset_by_timestamp("T", 0, INT64_MAX), QueueOffset(2));
  EXPECT_EQ(core_->max_offset("Nope", 0).status().code(), Code::kTopicNotExist);
  EXPECT_EQ(core_->min_offset("T", 5).status().code(), Code::kInvalidParameter);
}

}  // namespace
}  // namespace mq::test
