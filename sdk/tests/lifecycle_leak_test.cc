// 1,000 start()/shutdown() cycles of a Producer, a PushConsumer (concurrent and orderly) and a
// LitePullConsumer against an absent name server leave no thread and no file descriptor behind
// (counted in /proc/self/task and /proc/self/fd).
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/Thrift.h>

#include "logging.h"
#include "mq/client/lite_pull_consumer.h"
#include "mq/client/producer.h"
#include "mq/client/pull_consumer.h"
#include "mq/client/push_consumer.h"

namespace mq::client {
namespace {

constexpr int kCycles = 1000;
constexpr const char* kAbsentNameServer = "127.0.0.1:1";

size_t count_entries(const char* dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

struct Usage {
  size_t threads = count_entries("/proc/self/task");
  size_t fds = count_entries("/proc/self/fd");
};

// Usage once nothing more is about to go away: a joined thread's /proc/self/task entry can
// outlive pthread_join for a moment (the kernel wakes the joiner before it reaps the task).
// A leak stays: after 2 s the counts are compared as they are.
Usage settled(const Usage& before) {
  Usage now;
  for (int i = 0; i < 200 && (now.threads > before.threads || now.fds > before.fds); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = Usage{};
  }
  return now;
}

// Every cycle warns that the name server is unreachable; keep the test output readable.
class LifecycleLeak : public ::testing::Test {
 protected:
  void SetUp() override {
    set_client_log_level("off");
    apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  }
  void TearDown() override { set_client_log_level("info"); }
};

TEST_F(LifecycleLeak, ProducerThousandCycles) {
  {  // warm-up: one-time statics (logger, id generator) are not leaks
    Producer p("leak_producer");
    p.set_namesrv_addr(kAbsentNameServer);
    ASSERT_TRUE(p.start());
    (void)p.send(Message("T", "x"));
    ASSERT_TRUE(p.shutdown());
  }
  Usage before;
  for (int i = 0; i < kCycles; ++i) {
    Producer p("leak_producer");
    p.set_namesrv_addr(kAbsentNameServer);
    ASSERT_TRUE(p.start());
    if (i % 100 == 0) {
      EXPECT_FALSE(p.send(Message("T", "x")).ok());  // exercises connect attempts
    }
    ASSERT_TRUE(p.shutdown());
  }
  Usage after = settled(before);
  EXPECT_EQ(after.threads, before.threads);
  EXPECT_EQ(after.fds, before.fds);
}

void push_cycles(bool orderly) {
  auto make = [&](PushConsumer& c) {
    c.set_namesrv_addr(kAbsentNameServer);
    c.subscribe("T", "*");
    if (orderly) {
      c.register_message_listener_orderly([](const std::vector<MessageExt>&) { return ConsumeOrderlyStatus::kSuccess; });
    } else {
      c.register_message_listener([](const std::vector<MessageExt>&) { return ConsumeStatus::kConsumeSuccess; });
    }
    c.set_consume_thread_count(2);
  };
  {
    PushConsumer warm("leak_consumer");
    make(warm);
    ASSERT_TRUE(warm.start());
    ASSERT_TRUE(warm.shutdown());
  }
  Usage before;
  for (int i = 0; i < kCycles; ++i) {
    PushConsumer c("leak_consumer");
    make(c);
    ASSERT_TRUE(c.start()) << "cycle " << i;
    ASSERT_TRUE(c.shutdown());
  }
  Usage after = settled(before);
  EXPECT_EQ(after.threads, before.threads);
  EXPECT_EQ(after.fds, before.fds);
}

TEST_F(LifecycleLeak, PushConsumerThousandCycles) { push_cycles(false); }
TEST_F(LifecycleLeak, OrderlyPushConsumerThousandCycles) { push_cycles(true); }

TEST_F(LifecycleLeak, PullAndLitePullConsumersThousandCycles) {
  Usage before;
  for (int i = 0; i < kCycles; ++i) {
    LitePullConsumer lite("leak_lite");
    lite.set_namesrv_addr(kAbsentNameServer);
    lite.assign({MessageQueue{"T", "b", 0}});
    ASSERT_TRUE(lite.start());
    if (i % 100 == 0) {
      EXPECT_TRUE(lite.poll(0).empty());
    }
    ASSERT_TRUE(lite.shutdown());
    PullConsumer pull("leak_pull");
    pull.set_namesrv_addr(kAbsentNameServer);
    ASSERT_TRUE(pull.start());
    ASSERT_TRUE(pull.shutdown());
  }
  Usage after = settled(before);
  EXPECT_EQ(after.threads, before.threads);
  EXPECT_EQ(after.fds, before.fds);
}

}  // namespace
}  // namespace mq::client
