// SendAccumulator (coalescing of async sends) against a fake batch sender: every callback runs
// exactly once with its own result, order per topic is kept, batches respect their limits,
// failures are per message, and shutdown flushes what is pending.
#include "send_accumulator.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace mq::client {
namespace {

PendingSend make_send(const std::string& topic, int index, std::function<void(const SendResult&)> cb,
                      size_t bytes = 100, bool solo = false) {
  PendingSend s;
  s.message.topic = topic;
  s.message.body = std::to_string(index);
  s.msg_id = topic + "-" + std::to_string(index);
  s.bytes = bytes;
  s.solo = solo;
  s.callback = std::move(cb);
  return s;
}

// Records what was sent; results carry the message's own id and its position in the topic.
struct FakeBroker {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> stored;  // topic -> bodies in arrival order
  std::vector<size_t> batch_sizes;
  std::atomic<int> concurrent{0};
  std::atomic<int> max_concurrent_same_topic{0};
  std::map<std::string, int> in_flight;
  std::chrono::milliseconds delay{0};
  std::function<bool(const PendingSend&)> fail_when;  // fails the whole batch containing such a message

  std::vector<SendResult> send(std::vector<PendingSend>& batch) {
    const std::string topic = batch.front().message.topic;
    {
      std::lock_guard lock(mu);
      int n = ++in_flight[topic];
      max_concurrent_same_topic = std::max(max_concurrent_same_topic.load(), n);
      batch_sizes.push_back(batch.size());
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::vector<SendResult> out;
    bool fail = false;
    for (const auto& s : batch) fail |= fail_when && fail_when(s);
    std::lock_guard lock(mu);
    --in_flight[topic];
    for (const auto& s : batch) {
      EXPECT_EQ(s.message.topic, topic);
      SendResult r;
      r.msg_id = s.msg_id;
      if (fail) {
        r.code = 1;
        r.remark = "rejected";
        out.push_back(r);
        continue;
      }
      r.status = SendStatus::kSendOk;
      r.code = 0;
      r.queue_offset = static_cast<int64_t>(stored[topic].size());
      stored[topic].push_back(s.message.body);
      out.push_back(r);
    }
    return out;
  }
};

struct Collected {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> calls;                       // msg_id -> callbacks seen
  std::map<std::string, SendResult> results;              // msg_id -> result
  std::map<std::string, std::vector<std::string>> order;  // topic -> msg_ids in callback order
  int total = 0;

  std::function<void(const SendResult&)> callback(const std::string& topic, const std::string& id) {
    return [this, topic, id](const SendResult& r) {
      std::lock_guard lock(mu);
      ++calls[id];
      results[id] = r;
      order[topic].push_back(id);
      ++total;
      cv.notify_all();
    };
  }
  bool wait_for(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return total >= n; });
  }
};

TEST(SendAccumulator, EveryCallbackOnceWithItsOwnResultInOrderPerTopic) {
  FakeBroker broker;
  broker.delay = std::chrono::milliseconds(1);
  Collected got;
  SendAccumulator::Options options;
  options.sender_threads = 3;
  options.max_batch_messages = 16;
  options.capacity = 0;
  SendAccumulator acc(options, [&](std::vector<PendingSend>& b) { return broker.send(b); });
  const std::vector<std::string> topics = {"A", "B", "C"};
  constexpr int kPerTopic = 500;
  std::vector<std::thread> producers;
  for (const auto& topic : topics) {
    producers.emplace_back([&, topic] {
      for (int i = 0; i < kPerTopic; ++i) {
        PendingSend s = make_send(topic, i, got.callback(topic, topic + "-" + std::to_string(i)));
        ASSERT_EQ(acc.submit(s), SendAccumulator::Submit::kQueued);
      }
    });
  }
  for (auto& t : producers) t.join();
  ASSERT_TRUE(got.wait_for(kPerTopic * 3));
  acc.shutdown();
  std::lock_guard lock(got.mu);
  EXPECT_EQ(got.total, kPerTopic * 3);
  for (const auto& topic : topics) {
    ASSERT_EQ(got.order[topic].size(), static_cast<size_t>(kPerTopic));
    for (int i = 0; i < kPerTopic; ++i) {
      const std::string id = topic + "-" + std::to_string(i);
      EXPECT_EQ(got.order[topic][static_cast<size_t>(i)], id);  // callbacks in submission order
      EXPECT_EQ(got.calls[id], 1);
      EXPECT_EQ(got.results[id].msg_id, id);
      EXPECT_TRUE(got.results[id].ok());
      EXPECT_EQ(got.results[id].queue_offset, i);  // stored in submission order
      EXPECT_EQ(broker.stored[topic][static_cast<size_t>(i)], std::to_string(i));
    }
  }
  EXPECT_EQ(broker.max_concurrent_same_topic.load(), 1);  // one batch in flight per topic
  for (size_t n : broker.batch_sizes) EXPECT_LE(n, 16u);
  EXPECT_LT(broker.batch_sizes.size(), static_cast<size_t>(kPerTopic * 3));  // sends were coalesced
}

TEST(SendAccumulator, BatchLimitsAndSoloMessages) {
  FakeBroker broker;
  Collected got;
  SendAccumulator::Options options;
  options.sender_threads = 1;
  options.linger_ms = 60000;  // only full batches leave before shutdown
  options.max_batch_bytes = 1000;
  options.max_batch_messages = 100;
  auto acc = std::make_unique<SendAccumulator>(options, [&](std::vector<PendingSend>& b) { return broker.send(b); });
  int n = 0;
  auto add = [&](size_t bytes, bool solo = false) {
    PendingSend s = make_send("T", n, got.callback("T", "T-" + std::to_string(n)), bytes, solo);
    ++n;
    ASSERT_EQ(acc->submit(s), SendAccumulator::Submit::kQueued);
  };
  for (int i = 0; i < 10; ++i) add(100);  // 1,000 bytes: full, leaves despite the linger
  ASSERT_TRUE(got.wait_for(10));
  add(100);
  add(5000);       // over max_batch_bytes alone: travels alone
  add(100, true);  // solo
  add(100);
  add(100);
  acc->shutdown();  // flushes, ignoring the linger
  EXPECT_EQ(got.total, 15);
  std::vector<size_t> expected = {10, 1, 1, 1, 2};
  EXPECT_EQ(broker.batch_sizes, expected);
  for (int i = 0; i < n; ++i) EXPECT_EQ(got.order["T"][static_cast<size_t>(i)], "T-" + std::to_string(i));
}

TEST(SendAccumulator, LingerHoldsSmallBatchesUntilItExpires) {
  FakeBroker broker;
  Collected got;
  SendAccumulator::Options options;
  options.sender_threads = 2;
  options.linger_ms = 200;
  SendAccumulator acc(options, [&](std::vector<PendingSend>& b) { return broker.send(b); });
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    PendingSend s = make_send("L", i, got.callback("L", "L-" + std::to_string(i)));
    ASSERT_EQ(acc.submit(s), SendAccumulator::Submit::kQueued);
  }
  ASSERT_TRUE(got.wait_for(5));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
  std::lock_guard lock(broker.mu);
  ASSERT_EQ(broker.batch_sizes.size(), 1u);  // all five in one batch
  EXPECT_EQ(broker.batch_sizes[0], 5u);
}

TEST(SendAccumulator, FailuresArePerMessageAndOtherBatchesSucceed) {
  FakeBroker broker;
  broker.fail_when = [](const PendingSend& s) { return s.message.topic == "bad"; };
  Collected got;
  SendAccumulator::Options options;
  options.sender_threads = 2;
  options.linger_ms = 30000;
  SendAccumulator acc(options, [&](std::vector<PendingSend>& b) { return broker.send(b); });
  for (int i = 0; i < 20; ++i) {
    const std::string topic = i % 2 ? "bad" : "good";
    PendingSend s = make_send(topic, i, got.callback(topic, topic + "-" + std::to_string(i)));
    ASSERT_EQ(acc.submit(s), SendAccumulator::Submit::kQueued);
  }
  acc.shutdown();
  ASSERT_EQ(got.total, 20);
  for (int i = 0; i < 20; ++i) {
    const std::string topic = i % 2 ? "bad" : "good";
    const SendResult& r = got.results[topic + "-" + std::to_string(i)];
    EXPECT_EQ(r.msg_id, topic + "-" + std::to_string(i));
    EXPECT_EQ(r.ok(), topic == "good");
    if (topic == "bad") {
      EXPECT_EQ(r.remark, "rejected");
    }
  }
}

TEST(SendAccumulator, ThrowingSenderOrWrongResultCountFailsEachMessageOnce) {
  Collected got;
  std::atomic<int> batches{0};
  SendAccumulator::Options options;
  options.sender_threads = 1;
  options.linger_ms = 30000;
  SendAccumulator acc(options, [&](std::vector<PendingSend>& b) -> std::vector<SendResult> {
    if (batches++ == 0) throw std::runtime_error("boom");
    return std::vector<SendResult>(b.size() + 1);  // one result too many
  });
  for (int i = 0; i < 3; ++i) {
    PendingSend s = make_send("X", i, got.callback("X", "X-" + std::to_string(i)));
    ASSERT_EQ(acc.submit(s), SendAccumulator::Submit::kQueued);
  }
  PendingSend solo = make_send("X", 3, got.callback("X", "X-3"), 10, true);
  ASSERT_EQ(acc.submit(solo), SendAccumulator::Submit::kQueued);
  acc.shutdown();
  ASSERT_EQ(got.total, 4);
  for (int i = 0; i < 4; ++i) {
    const std::string id = "X-" + std::to_string(i);
    EXPECT_EQ(got.calls[id], 1);
    EXPECT_FALSE(got.results[id].ok());
    EXPECT_EQ(got.results[id].msg_id, id);
  }
  EXPECT_NE(got.results["X-0"].remark.find("boom"), std::string::npos);
  EXPECT_NE(got.results["X-3"].remark.find("results for a batch"), std::string::npos);
}

TEST(SendAccumulator, CapacityRefusesAndShutdownClosesButFlushes) {
  FakeBroker broker;
  Collected got;
  SendAccumulator::Options options;
  options.sender_threads = 1;
  options.linger_ms = 60000;
  options.capacity = 3;
  SendAccumulator acc(options, [&](std::vector<PendingSend>& b) { return broker.send(b); });
  for (int i = 0; i < 3; ++i) {
    PendingSend s = make_send("C", i, got.callback("C", "C-" + std::to_string(i)));
    ASSERT_EQ(acc.submit(s), SendAccumulator::Submit::kQueued);
  }
  PendingSend refused = make_send("C", 9, got.callback("C", "C-9"));
  EXPECT_EQ(acc.submit(refused), SendAccumulator::Submit::kFull);
  EXPECT_TRUE(static_cast<bool>(refused.callback));  // left with the caller
  EXPECT_EQ(acc.pending(), 3u);
  acc.shutdown();
  EXPECT_EQ(got.total, 3);  // the pending ones were sent, not dropped
  EXPECT_EQ(broker.stored["C"].size(), 3u);
  PendingSend late = make_send("C", 10, got.callback("C", "C-10"));
  EXPECT_EQ(acc.submit(late), SendAccumulator::Submit::kClosed);
  acc.shutdown();  // idempotent
  EXPECT_EQ(got.total, 3);
}

}  // namespace
}  // namespace mq::client
