// BrokerCore admin queries: view_message, query_message_by_key, reset_offset_by_timestamp
// (force / not force / max offset) and delete_topic.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/core_fixture.h"

namespace mq::test {
namespace {

class BrokerQueryTest : public CoreFixture {};

TEST_F(BrokerQueryTest, ViewMessageByCommitLogOffset) {
  start();
  send_n("T", 0, 2);
  auto stored = store_->messages("T", 0);
  ASSERT_EQ(stored.size(), 2u);
  auto m = core_->view_message(stored[1].commit_log_offset);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ(m->body, "m1");
  auto missing = core_->view_message(stored[1].commit_log_offset + 1);
  EXPECT_EQ(missing.status().code(), Code::kQueryNotFound);
  EXPECT_NE(missing.status().message().find("offset"), std::string::npos);
  EXPECT_EQ(core_->view_message(CommitLogOffset(-5)).status().code(), Code::kQueryNotFound);
}

TEST_F(BrokerQueryTest, QueryByKey) {
  start();
  send_n("T", 0, 3);
  send_n("T", 1, 2, "q1-");
  auto r = core_->query_message_by_key("T", "k1", 10, 0, -1);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->size(), 2u);  // "k1" in queue 0 and queue 1
  EXPECT_EQ((*r)[0].body, "q1-1");  // newest first
  EXPECT_EQ((*r)[1].body, "m1");
  auto all = core_->query_message_by_key("T", "all", 2, 0, -1);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->size(), 2u);  // max_count
  auto uniq = std::string(store_->messages("T", 0)[2].property(prop::kUniqKey));
  ASSERT_FALSE(uniq.empty());
  auto by_id = core_->query_message_by_key("T", uniq, 10, 0, -1);
  ASSERT_TRUE(by_id.is_ok());
  EXPECT_EQ((*by_id)[0].body, "m2");

  EXPECT_EQ(core_->query_message_by_key("T", "nope", 10, 0, -1).status().code(), Code::kQueryNotFound);
  EXPECT_EQ(core_->query_message_by_key("T", "k1", 10, 0, 1).status().code(), Code::kQueryNotFound);  // 1970
  EXPECT_EQ(core_->query_message_by_key("NoTopic", "k1", 10, 0, -1).status().code(), Code::kTopicNotExist);
  EXPECT_EQ(core_->query_message_by_key("T", "", 10, 0, -1).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->query_message_by_key("T", "k1", 0, 0, -1).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->query_message_by_key("T", "k1", 10, 5, 4).status().code(), Code::kInvalidParameter);
}

TEST_F(BrokerQueryTest, ResetOffsetByTimestamp) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, 6}).is_ok());
  send_n("T", 0, 3);
  send_n("T", 1, 1);
  ASSERT_TRUE(core_->update_consumer_offset("G", "T", 0, 1).is_ok());

  auto to_max = core_->reset_offset_by_timestamp("G", "T", -1, false);
  ASSERT_TRUE(to_max.is_ok()) << to_max.status().to_string();
  EXPECT_EQ(*to_max, (std::map<QueueId, int64_t>{{0, 3}, {1, 1}}));
  EXPECT_EQ(*core_->query_consumer_offset("G", "T", 0), 3);

  auto not_back = core_->reset_offset_by_timestamp("G", "T", 0, false);  // never moves backwards
  ASSERT_TRUE(not_back.is_ok());
  EXPECT_EQ(*not_back, (std::map<QueueId, int64_t>{{0, 3}, {1, 1}}));

  auto back = core_->reset_offset_by_timestamp("G", "T", 0, true);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, (std::map<QueueId, int64_t>{{0, 0}, {1, 0}}));
  EXPECT_EQ(*core_->query_consumer_offset("G", "T", 1), 0);

  int64_t future_ms = store_->messages("T", 0).back().store_timestamp_ms + 60000;
  auto future = core_->reset_offset_by_timestamp("G", "T", future_ms, true);
  ASSERT_TRUE(future.is_ok());
  EXPECT_EQ(*future, (std::map<QueueId, int64_t>{{0, 3}, {1, 1}}));

  EXPECT_EQ(core_->reset_offset_by_timestamp("G", "NoTopic", 0, true).status().code(), Code::kTopicNotExist);
  EXPECT_EQ(core_->reset_offset_by_timestamp("bad group", "T", 0, true).status().code(), Code::kInvalidParameter);
}

TEST_F(BrokerQueryTest, DeleteTopicRemovesConfigAndOffsets) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, 6}).is_ok());
  ASSERT_TRUE(core_->create_topic(TopicConfig{"Keep", 1, 1, 6}).is_ok());
  ASSERT_TRUE(core_->update_consumer_offset("G", "T", 0, 4).is_ok());
  ASSERT_TRUE(core_->update_consumer_offset("G", "Keep", 0, 2).is_ok());
  ASSERT_EQ(core_->lock_batch("G", "c1", {QueueRef{"T", 0}})->size(), 1u);

  ASSERT_TRUE(core_->delete_topic("T").is_ok());
  auto topics = core_->topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0].topic_name, "Keep");
  auto announced = core_->registration().topics;
  EXPECT_TRUE(
      std::none_of(announced.begin(), announced.end(), [](const TopicConfig& t) { return t.topic_name == "T"; }));
  EXPECT_EQ(core_->query_consumer_offset("G", "T", 0).status().code(), Code::kQueryNotFound);
  EXPECT_EQ(*core_->query_consumer_offset("G", "Keep", 0), 2);
  EXPECT_EQ(core_->lock_batch("G", "c2", {QueueRef{"T", 0}})->size(), 1u);  // its locks are gone too

  Status again = core_->delete_topic("T");
  EXPECT_EQ(again.code(), Code::kTopicNotExist);
  EXPECT_NE(again.message().find("'T'"), std::string::npos);

  restart();  // the deletion was persisted
  ASSERT_EQ(core_->topics().size(), 1u);
  EXPECT_EQ(core_->query_consumer_offset("G", "T", 0).status().code(), Code::kQueryNotFound);
}

}  // namespace
}  // namespace mq::test
