// BrokerCore: a clustering consumer's heartbeat creates %RETRY%<group> (retryQueueNums queues,
// read/write) as RocketMQ does; broadcasting consumers get none; %RETRY% and %DLQ% topics can
// be pulled like any topic.
#include <gtest/gtest.h>

#include "support/core_fixture.h"

namespace mq::test {
namespace {

class BrokerRetryTopicTest : public CoreFixture {};

TEST_F(BrokerRetryTopicTest, ClusteringHeartbeatCreatesRetryTopic) {
  start();
  EXPECT_FALSE(core_->find_topic("%RETRY%G1").has_value());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G1")).is_ok());
  auto retry = core_->find_topic("%RETRY%G1");
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->read_queue_nums, 1);
  EXPECT_EQ(retry->write_queue_nums, 1);
  EXPECT_EQ(retry->perm, kPermRead | kPermWrite);
  // A second heartbeat leaves it alone.
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G1")).is_ok());
  EXPECT_EQ(core_->find_topic("%RETRY%G1"), retry);
}

TEST_F(BrokerRetryTopicTest, RetryQueueNumsOfTheGroupIsUsed) {
  start();
  SubscriptionGroupConfig c;
  c.group_name = "G2";
  c.retry_queue_nums = 3;
  ASSERT_TRUE(core_->update_subscription_group(c).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G2")).is_ok());
  auto retry = core_->find_topic("%RETRY%G2");
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->read_queue_nums, 3);
}

TEST_F(BrokerRetryTopicTest, BroadcastingHeartbeatCreatesNone) {
  start();
  auto hb = consumer_hb("c1", "GB");
  hb.consumers[0].message_model = MessageModel::kBroadcasting;
  ASSERT_TRUE(core_->heartbeat(hb).is_ok());
  EXPECT_FALSE(core_->find_topic("%RETRY%GB").has_value());
}

TEST_F(BrokerRetryTopicTest, RetryAndDlqTopicsArePullable) {
  start();
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G3")).is_ok());
  auto empty = make_pull("%RETRY%G3", 0, 0);
  empty.consumer_group = "G3";
  EXPECT_EQ(pull_sync(*core_, empty).status.code(), Code::kPullNotFound);
  ASSERT_TRUE(core_->create_topic(TopicConfig{"%DLQ%G3", 1, 1, kPermRead | kPermWrite}).is_ok());
  send_n("%RETRY%G3", 0, 2, "r");
  send_n("%DLQ%G3", 0, 1, "d");
  auto retry = make_pull("%RETRY%G3", 0, 0);
  retry.consumer_group = "G3";
  auto r = pull_sync(*core_, retry);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.messages.size(), 2u);
  auto dlq = make_pull("%DLQ%G3", 0, 0);
  dlq.consumer_group = "G3";
  auto d = pull_sync(*core_, dlq);
  ASSERT_TRUE(d.status.is_ok()) << d.status.message();
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].body, "d0");
}

}  // namespace
}  // namespace mq::test
