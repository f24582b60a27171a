// End-to-end: real mqbroker (embedded name server) + the C++ SDK. 10,000 messages over 4
// queues from two producer threads are consumed exactly once in per-queue order; after a
// SIGTERM restart nothing is lost and the group's offsets resume where they were.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mq/client/producer.h"
#include "mq/client/push_consumer.h"
#include "mq/wire/client_channel.h"
#include "support/broker_admin.h"
#include "support/broker_process.h"
#include "support/push_consumer_start.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;
using client::ConsumeStatus;
using client::MessageExt;

constexpr int kQueues = 4;
constexpr int kPerThread = 5000;
const char* const kTopic = "E2ETopic";

// Everything one consumer saw, for exactly-once and order checks.
struct Received {
  std::mutex mu;
  std::map<int32_t, std::vector<int64_t>> offsets_by_queue;  // arrival order
  std::map<std::string, int> count_by_body;
  std::map<std::pair<int32_t, int64_t>, std::string> body_at;  // (queue, offset) -> body
  std::atomic<int> total{0};

  client::MessageListener listener() {
    return [this](const std::vector<MessageExt>& msgs) {
      std::lock_guard lock(mu);
      for (const auto& m : msgs) {
        offsets_by_queue[m.queue_id()].push_back(m.queue_offset());
        ++count_by_body[m.body()];
        body_at[{m.queue_id(), m.queue_offset()}] = m.body();
        ++total;
      }
      return ConsumeStatus::kConsumeSuccess;
    };
  }
};

std::unique_ptr<client::PushConsumer> start_consumer(const std::string& namesrv, const std::string& group,
                                                     Received& received) {
  return start_push_consumer(namesrv, group, kTopic, received.listener(), [](client::PushConsumer& c) {
    c.set_consume_thread_count(1);  // one thread: listener order == delivery order
  });
}

// Sends `count` messages "p<thread>-<seq>" from one thread; returns the queue of each seq.
void produce(client::Producer& producer, int thread, int count, std::vector<int32_t>* queue_of_seq) {
  queue_of_seq->resize(static_cast<size_t>(count));
  for (int seq = 0; seq < count; ++seq) {
    std::string body = "p";
    body += std::to_string(thread);
    body += '-';
    body += std::to_string(seq);
    client::Message msg(kTopic, "Tag" + std::to_string(thread), "key-" + std::to_string(seq), body);
    auto result = producer.send(msg);
    ASSERT_EQ(result.status, client::SendStatus::kSendOk) << result.code << " " << result.remark;
    (*queue_of_seq)[static_cast<size_t>(seq)] = result.message_queue.queue_id;
  }
}

TEST(ProduceConsumeRestartTest, TenThousandMessagesExactlyOnceInQueueOrderAcrossRestart) {
  TempDir dir("mqe2e");
  BrokerOptions options;
  options.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(1 << 20);  // many segments
  options.sections["storage-mmap"]["mapedFileSizeConsumeQueue"] = std::to_string(20 * 1000);
  BrokerProcess broker(dir.path(), options);
  broker.start();
  ASSERT_EQ(create_topic(broker.broker_addr(), kTopic, kQueues), "");
  ASSERT_TRUE(wait_for_route(broker.namesrv_addr(), kTopic)) << "no route for " << kTopic;

  // Two producer threads, 5,000 messages each.
  client::Producer producer("e2e-producer");
  producer.set_namesrv_addr(broker.namesrv_addr());
  ASSERT_TRUE(producer.start().is_ok());
  std::vector<int32_t> queues_a, queues_b;
  std::thread ta([&] { produce(producer, 0, kPerThread, &queues_a); });
  std::thread tb([&] { produce(producer, 1, kPerThread, &queues_b); });
  ta.join();
  tb.join();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  std::set<int32_t> used_queues(queues_a.begin(), queues_a.end());
  EXPECT_EQ(used_queues.size(), static_cast<size_t>(kQueues)) << "round robin should use every queue";

  // One consumer group consumes everything exactly once, in per-queue order.
  Received first;
  auto consumer = start_consumer(broker.namesrv_addr(), "e2e-group", first);
  ASSERT_TRUE(eventually([&] { return first.total.load() >= 2 * kPerThread; }, 60s))
      << "consumed " << first.total.load() << " of " << 2 * kPerThread;
  std::this_thread::sleep_for(500ms);  // a duplicate would show up here
  EXPECT_TRUE(consumer->shutdown().is_ok());
  {
    std::lock_guard lock(first.mu);
    EXPECT_EQ(first.total.load(), 2 * kPerThread);
    EXPECT_EQ(first.count_by_body.size(), static_cast<size_t>(2 * kPerThread));
    for (const auto& [body, n] : first.count_by_body) EXPECT_EQ(n, 1) << body;
    for (const auto& [queue, offsets] : first.offsets_by_queue) {
      for (size_t i = 0; i < offsets.size(); ++i) {
        ASSERT_EQ(offsets[i], static_cast<int64_t>(i)) << "queue " << queue << " delivered out of order";
      }
    }
    // Within a queue, each producer's messages are stored in the order that producer sent them.
    std::map<std::pair<int32_t, int>, int> last_seq;  // (queue, producer thread) -> last seq
    for (const auto& [where, body] : first.body_at) {
      int thread = body[1] - '0';
      int seq = std::stoi(body.substr(3));
      auto key = std::make_pair(where.first, thread);
      auto it = last_seq.find(key);
      if (it != last_seq.end()) {
        EXPECT_LT(it->second, seq) << "queue " << where.first << " offset " << where.second;
      }
      last_seq[key] = seq;
    }
  }
  int64_t committed_before = 0;
  for (int q = 0; q < kQueues; ++q) committed_before += committed_offset(broker.broker_addr(), "e2e-group", kTopic, q);
  EXPECT_EQ(committed_before, 2 * kPerThread);
  producer.shutdown();

  // Graceful stop: exit code 0. Then restart on the same store and ports.
  EXPECT_EQ(broker.stop(SIGTERM), 0) << broker.log();
  broker.start();
  ASSERT_TRUE(wait_for_route(broker.namesrv_addr(), kTopic)) << "no route for " << kTopic;

  // Offsets survived the restart.
  int64_t committed_after = 0;
  for (int q = 0; q < kQueues; ++q) committed_after += committed_offset(broker.broker_addr(), "e2e-group", kTopic, q);
  EXPECT_EQ(committed_after, committed_before);

  // Nothing was lost: a new group reads all 10,000 with the same bodies.
  Received verify;
  auto verifier = start_consumer(broker.namesrv_addr(), "e2e-verify", verify);
  ASSERT_TRUE(eventually([&] { return verify.total.load() >= 2 * kPerThread; }, 60s))
      << "after restart consumed " << verify.total.load();
  verifier->shutdown();
  {
    std::lock_guard lock(verify.mu);
    std::lock_guard lock2(first.mu);
    EXPECT_EQ(verify.count_by_body, first.count_by_body);
  }

  // The original group resumes at its offsets: it sees only the new messages.
  Received resumed;
  auto consumer2 = start_consumer(broker.namesrv_addr(), "e2e-group", resumed);
  client::Producer producer2("e2e-producer");
  producer2.set_namesrv_addr(broker.namesrv_addr());
  ASSERT_TRUE(producer2.start().is_ok());
  std::vector<int32_t> queues_c;
  produce(producer2, 2, 1000, &queues_c);
  ASSERT_TRUE(eventually([&] { return resumed.total.load() >= 1000; }, 60s)) << resumed.total.load();
  std::this_thread::sleep_for(500ms);
  consumer2->shutdown();
  producer2.shutdown();
  std::lock_guard lock(resumed.mu);
  EXPECT_EQ(resumed.total.load(), 1000);
  for (const auto& [body, n] : resumed.count_by_body) {
    EXPECT_EQ(body.rfind("p2-", 0), 0u) << "re-delivered an already consumed message: " << body;
    EXPECT_EQ(n, 1) << body;
  }
  EXPECT_EQ(broker.stop(SIGTERM), 0) << broker.log();
}

}  // namespace
}  // namespace mq::testing
