// End-to-end: Producer::send_async coalesced into batch requests against a real mqbroker
// (embedded name server). Every callback runs exactly once with its own result, each producer
// thread's messages keep their order within every queue, a message the broker refuses fails
// alone while its neighbours are stored, and shutdown() right after the sends flushes them all.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mq/client/producer.h"
#include "support/broker_admin.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kQueues = 4;
constexpr int kThreads = 2;
constexpr int kPerThread = 3000;
const char* const kTopic = "AsyncTopic";

// Built with += (GCC 12 reports a false -Wrestrict for "literal" + std::string chains).
std::string body_of(int thread, int seq) {
  std::string body = "p";
  body += std::to_string(thread);
  body += '-';
  body += std::to_string(seq);
  return body;
}

struct Outcome {
  int calls = 0;
  client::SendResult result;
};

TEST(AsyncSendE2E, CoalescedSendsKeepOrderPerQueueAndEveryCallbackRunsOnceBeforeShutdownReturns) {
  TempDir dir("mqasync");
  BrokerProcess broker(dir.path(), BrokerOptions{});
  broker.start();
  ASSERT_EQ(create_topic(broker.broker_addr(), kTopic, kQueues), "");
  ASSERT_TRUE(wait_for_route(broker.namesrv_addr(), kTopic)) << "no route for " << kTopic;

  client::Producer producer("async-e2e-producer");
  producer.set_namesrv_addr(broker.namesrv_addr());
  producer.set_async_linger_ms(2);
  producer.set_async_batch_max_messages(64);  // many batches, so several queues are used
  producer.set_async_queue_capacity(kThreads * kPerThread + 100);
  ASSERT_TRUE(producer.start().is_ok());

  std::mutex mu;
  std::map<std::string, Outcome> outcomes;  // body -> what its callback saw
  std::atomic<int> callbacks{0};
  auto record = [&](const std::string& body) {
    return [&, body](const client::SendResult& r) {
      std::lock_guard lock(mu);
      Outcome& o = outcomes[body];
      ++o.calls;
      o.result = r;
      ++callbacks;
    };
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int seq = 0; seq < kPerThread; ++seq) {
        const std::string body = body_of(t, seq);
        client::Message msg(kTopic, body);
        // Every 1000th message asks for delayed delivery: without the schedule plugin the
        // broker refuses it; it travels alone, so only it fails.
        if (seq % 1000 == 500) msg.set_delay_time_level(3);
        producer.send_async(msg, record(body));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(producer.shutdown().is_ok());  // flushes everything still pending
  EXPECT_EQ(callbacks.load(), kThreads * kPerThread);

  // A send after shutdown is refused on the calling thread.
  bool refused = false;
  producer.send_async(client::Message(kTopic, "late"), [&](const client::SendResult& r) { refused = !r.ok(); });
  EXPECT_TRUE(refused);

  std::lock_guard lock(mu);
  ASSERT_EQ(outcomes.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> ids;
  std::map<int32_t, std::set<int64_t>> offsets_by_queue;
  std::map<std::pair<int32_t, int>, std::pair<int, int64_t>> last;  // (queue, thread) -> (seq, offset)
  for (int t = 0; t < kThreads; ++t) {
    for (int seq = 0; seq < kPerThread; ++seq) {
      const std::string body = body_of(t, seq);
      const Outcome& o = outcomes[body];
      ASSERT_EQ(o.calls, 1) << body;
      EXPECT_FALSE(o.result.msg_id.empty()) << body;
      EXPECT_TRUE(ids.insert(o.result.msg_id).second) << "duplicate msg id " << o.result.msg_id;
      if (seq % 1000 == 500) {
        EXPECT_FALSE(o.result.ok()) << body << " asked for a delay the broker cannot serve";
        EXPECT_EQ(o.result.code, client::code::kRequestCodeNotSupported) << o.result.remark;
        continue;
      }
      ASSERT_EQ(o.result.status, client::SendStatus::kSendOk)
          << body << ": " << o.result.code << " " << o.result.remark;
      const int32_t queue = o.result.message_queue.queue_id;
      EXPECT_TRUE(offsets_by_queue[queue].insert(o.result.queue_offset).second) << body;
      auto key = std::make_pair(queue, t);
      auto it = last.find(key);
      if (it != last.end()) {
        EXPECT_LT(it->second.second, o.result.queue_offset)
            << body << " stored before " << body_of(t, it->second.first) << " in queue " << queue;
      }
      last[key] = {seq, o.result.queue_offset};
    }
  }
  // Offsets of each queue are dense from 0: nothing stored twice or lost between results.
  size_t stored = 0;
  for (const auto& [queue, offsets] : offsets_by_queue) {
    stored += offsets.size();
    EXPECT_EQ(*offsets.begin(), 0) << "queue " << queue;
    EXPECT_EQ(*offsets.rbegin(), static_cast<int64_t>(offsets.size()) - 1) << "queue " << queue;
  }
  EXPECT_EQ(stored, static_cast<size_t>(kThreads * (kPerThread - kPerThread / 1000)));
  EXPECT_GT(offsets_by_queue.size(), 1u) << "batches should spread over the queues";
}

TEST(AsyncSendE2E, SendsToAnUnknownTopicEachFailWithTheirOwnId) {
  TempDir dir("mqasync");
  BrokerOptions options;
  options.global["autoCreateTopicEnable"] = "false";
  BrokerProcess broker(dir.path(), options);
  broker.start();
  client::Producer producer("async-e2e-missing");
  producer.set_namesrv_addr(broker.namesrv_addr());
  producer.set_retry_times_when_send_failed(0);
  ASSERT_TRUE(producer.start().is_ok());
  std::mutex mu;
  std::vector<client::SendResult> results;
  std::set<std::string> sent_ids;
  for (int i = 0; i < 20; ++i) {
    std::string id = "id-";
    id += std::to_string(i);
    client::Message msg("NoSuchAsyncTopic", id);
    msg.set_property("UNIQ_KEY", id);
    sent_ids.insert(id);
    producer.send_async(msg, [&](const client::SendResult& r) {
      std::lock_guard lock(mu);
      results.push_back(r);
    });
  }
  ASSERT_TRUE(producer.shutdown().is_ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(results.size(), 20u);
  std::set<std::string> got_ids;
  for (const auto& r : results) {
    EXPECT_FALSE(r.ok());
    got_ids.insert(r.msg_id);
  }
  EXPECT_EQ(got_ids, sent_ids);
}

}  // namespace
}  // namespace mq::testing
