// BrokerCore long polling: parked pulls wake on arrival, time out with PULL_NOT_FOUND,
// cost no thread each, and are all answered by stop().
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

using namespace std::chrono_literals;

class BrokerLongPollTest : public ::testing::Test {
 protected:
  void start(kernel::BrokerSettings s) {
    store_ = std::make_shared<FakeMessageStore>();
    core_ = std::make_unique<kernel::BrokerCore>(std::move(s), store_, quiet_logger());
    ASSERT_TRUE(core_->start().is_ok());
    ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, kPermRead | kPermWrite}).is_ok());
  }
  void start() { start(test_settings(dir_.path())); }
  void TearDown() override {
    if (core_) core_->stop();
  }
  size_t held() { return std::stoul(core_->runtime_info().at("heldPullCount")); }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerLongPollTest, ParkedPullWakesOnArrival) {
  start();
  auto reply = pull_async(*core_, make_pull("T", 0, 0, 30000));
  ASSERT_TRUE(eventually([&] { return held() == 1; }));
  EXPECT_EQ(reply.wait_for(0ms), std::future_status::timeout);
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("wake up")}, 0)).status.is_ok());
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready) << "arrival did not wake the parked pull";
  auto r = reply.get();
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "wake up");
  EXPECT_EQ(held(), 0u);
}

TEST_F(BrokerLongPollTest, ArrivalOnAnotherQueueDoesNotWake) {
  start();
  auto reply = pull_async(*core_, make_pull("T", 0, 0, 30000));
  ASSERT_TRUE(eventually([&] { return held() == 1; }));
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("other")}, 1)).status.is_ok());
  store_->drain();
  EXPECT_EQ(held(), 1u);
  EXPECT_EQ(reply.wait_for(0ms), std::future_status::timeout);
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("mine")}, 0)).status.is_ok());
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(reply.get().messages.at(0).body, "mine");
}

TEST_F(BrokerLongPollTest, NonMatchingTagKeepsPullParkedUntilAMatchArrives) {
  start();
  auto reply = pull_async(*core_, make_pull("T", 0, 0, 30000, "TagA"));
  ASSERT_TRUE(eventually([&] { return held() == 1; }));
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("b", "TagB")}, 0)).status.is_ok());
  store_->drain();
  EXPECT_EQ(held(), 1u);
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("a", "TagA")}, 0)).status.is_ok());
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready);
  auto r = reply.get();
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].body, "a");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
}

TEST_F(BrokerLongPollTest, ParkedPullTimesOutWithPullNotFound) {
  start();
  auto reply = pull_async(*core_, make_pull("T", 0, 0, 200));
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready) << "held pull was never answered";
  auto r = reply.get();
  EXPECT_EQ(r.status.code(), Code::kPullNotFound);
  EXPECT_EQ(r.next_begin_offset, QueueOffset(0));
  EXPECT_EQ(held(), 0u);
}

TEST_F(BrokerLongPollTest, ShortPollingIgnoresArrivalsAndAnswersAfterShortPollingTime) {
  auto s = test_settings(dir_.path());
  s.long_polling_enable = false;
  s.short_polling_time_ms = 300;
  start(s);
  auto reply = pull_async(*core_, make_pull("T", 0, 0, 60000));
  ASSERT_TRUE(eventually([&] { return held() == 1; }));
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("late")}, 0)).status.is_ok());
  store_->drain();
  // Answered by the short-polling timer (not the 60 s suspend), with what is there by then.
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready);
  auto r = reply.get();
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.messages.size(), 1u);
}

TEST_F(BrokerLongPollTest, ThousandParkedPullsUseNoThreadsAndOneArrivalPerQueueAnswersAll) {
  start();
  constexpr int kPulls = 1000;
  const size_t threads_before = thread_count();
  std::vector<std::future<PullResponse>> replies;
  replies.reserve(kPulls);
  for (int i = 0; i < kPulls; ++i) replies.push_back(pull_async(*core_, make_pull("T", i % 2, 0, 60000)));
  ASSERT_TRUE(eventually([&] { return held() == kPulls; }));
  EXPECT_LE(thread_count(), threads_before + 1) << "parked pulls must not hold threads";
  for (auto& f : replies) ASSERT_EQ(f.wait_for(0ms), std::future_status::timeout);

  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("q0")}, 0)).status.is_ok());
  ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message("q1")}, 1)).status.is_ok());
  for (int i = 0; i < kPulls; ++i) {
    ASSERT_EQ(replies[i].wait_for(10s), std::future_status::ready) << "pull " << i;
    auto r = replies[i].get();
    ASSERT_TRUE(r.status.is_ok()) << i << ": " << r.status.to_string();
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].body, i % 2 == 0 ? "q0" : "q1");
  }
  EXPECT_EQ(held(), 0u);
}

TEST_F(BrokerLongPollTest, StopAnswersEveryParkedPullAndRefusesNewOnes) {
  start();
  std::vector<std::future<PullResponse>> replies;
  for (int i = 0; i < 10; ++i) replies.push_back(pull_async(*core_, make_pull("T", i % 2, 0, 60000)));
  ASSERT_TRUE(eventually([&] { return held() == 10; }));
  core_->stop();
  for (auto& f : replies) {
    ASSERT_EQ(f.wait_for(0ms), std::future_status::ready) << "stop() left a pull unanswered";
    EXPECT_EQ(f.get().status.code(), Code::kPullNotFound);
  }
  auto r = pull_sync(*core_, make_pull("T", 0, 0, 60000));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("broker is shutting down"), std::string::npos);
}

TEST_F(BrokerLongPollTest, PullOnFreshTopicParksAndWakes) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"Fresh", 1, 1, kPermRead | kPermWrite}).is_ok());
  auto reply = pull_async(*core_, make_pull("Fresh", 0, 0, 30000));
  ASSERT_TRUE(eventually([&] { return held() == 1; }));
  ASSERT_TRUE(send_sync(*core_, make_send("Fresh", {make_message("first")}, 0)).status.is_ok());
  ASSERT_EQ(reply.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(reply.get().status.is_ok());
}

}  // namespace
}  // namespace mq::test
