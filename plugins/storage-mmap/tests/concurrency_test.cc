// Concurrent writers and a reader: every message is seen exactly once, in per-queue order;
// the put lock's AdaptiveMutex excludes.
#include <atomic>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "adaptive_mutex.h"
#include "fake_host.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

TEST(ConcurrencyTest, AdaptiveMutexExcludesAndTryLockFailsWhileHeld) {
  AdaptiveMutex mu;
  {
    std::unique_lock held(mu);
    std::thread other([&] { EXPECT_FALSE(mu.try_lock()) << "taken while held"; });
    other.join();
  }
  ASSERT_TRUE(mu.try_lock());
  mu.unlock();
  // Unsynchronized read-modify-writes under the lock: any overlap loses increments.
  constexpr int kThreads = 4;
  constexpr int kEach = 200000;
  int64_t counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        std::lock_guard lock(mu);
        const int64_t seen = counter;
        counter = seen + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, int64_t{kThreads} * kEach);
}

TEST(ConcurrencyTest, FourWritersAndAReaderSeeEveryMessageOnceInOrder) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 600;
  constexpr QueueId kShared = 9;  // every writer also writes here, interleaving
  std::atomic<bool> writers_failed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        QueueId q = i % 2 == 0 ? w : kShared;
        PutResult r = put_wait(
            *store, make_message("Conc", q, std::to_string(w) + ":" + std::to_string(i) + std::string(i % 200, 'p')));
        if (!r.status) writers_failed = true;
      }
    });
  }
  // Reader: polls every queue concurrently with the writers.
  std::map<QueueId, int64_t> next;
  std::map<std::pair<QueueId, int>, int> last_seq;  // (queue, writer) -> last i seen
  int total = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (total < kWriters * kPerWriter && std::chrono::steady_clock::now() < deadline) {
    bool got = false;
    for (QueueId q : {0, 1, 2, 3, kShared}) {
      GetResult g = get_all(*store, "Conc", q, next[q], 32);
      if (g.status != GetStatus::kFound) {
        ASSERT_TRUE(g.status == GetStatus::kOffsetOverflowOne || g.status == GetStatus::kNoMatchedLogicQueue ||
                    g.status == GetStatus::kNoMessageInQueue)
            << static_cast<int>(g.status);
        continue;
      }
      got = true;
      for (const auto& m : g.messages) {
        ASSERT_EQ(m.queue_offset.value(), next[q]) << "queue " << q;
        ++next[q];
        size_t colon = m.body.find(':');
        int writer = std::stoi(m.body.substr(0, colon));
        int seq = std::stoi(m.body.substr(colon + 1));
        auto key = std::make_pair(q, writer);
        auto it = last_seq.find(key);
        ASSERT_TRUE(it == last_seq.end() ? seq < 2 : seq == it->second + 2)
            << "queue " << q << " writer " << writer << " seq " << seq;
        last_seq[key] = seq;
        ++total;
      }
      ASSERT_EQ(g.next_begin_offset.value(), next[q]);
    }
    if (!got) std::this_thread::sleep_for(1ms);
  }
  for (auto& t : writers) t.join();
  EXPECT_FALSE(writers_failed);
  EXPECT_EQ(total, kWriters * kPerWriter);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(next[w], kPerWriter / 2);
    EXPECT_EQ(last_seq[std::make_pair(QueueId{w}, w)], kPerWriter - 2);
    EXPECT_EQ(last_seq[std::make_pair(kShared, w)], kPerWriter - 1);
  }
  EXPECT_EQ(next[kShared], kWriters * kPerWriter / 2);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
