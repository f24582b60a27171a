// ASYNC_FLUSH combined writes (appendCombineWrites): a put big enough for pwrite is staged
// under the put lock and written by whichever putting thread holds the write lock; puts
// staged meanwhile are written, published and completed by that thread.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "commit_log.h"
#include "fake_host.h"
#include "mapped_file.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_batch_wait;
using testing::small_options;
using testing::TempDir;

// A pwrite that can hold its caller until released, and then fail.
std::atomic<bool> g_hold{false};
std::atomic<bool> g_held{false};
std::atomic<bool> g_release{false};
std::atomic<bool> g_fail{false};

ssize_t holding_pwrite(int fd, const void* buf, size_t count, off_t offset) {
  if (g_hold.exchange(false)) {
    g_held = true;
    while (!g_release.load()) std::this_thread::sleep_for(1ms);
  }
  if (g_fail.load()) {
    errno = EIO;
    return -1;
  }
  return ::pwrite(fd, buf, count, offset);
}

struct HoldingPwrite {
  HoldingPwrite() {
    g_hold = g_held = g_release = g_fail = false;
    set_pwrite_for_testing(&holding_pwrite);
  }
  ~HoldingPwrite() {
    g_release = true;
    set_pwrite_for_testing(nullptr);
  }
};

StoreOptions combining_options(const std::string& root) {
  StoreOptions o = small_options(root);
  o.commit_log_segment_size = 1 << 20;
  o.append_with_pwrite = true;
  o.append_with_pwrite_min_bytes = 4096;
  o.combine_append_writes = true;
  return o;
}

std::vector<StoredMessage> batch(QueueId q, int first, int n) {
  std::vector<StoredMessage> ms;
  for (int i = first; i < first + n; ++i) ms.push_back(make_message("Comb", q, std::string(1000, 'a' + i % 26)));
  return ms;
}

// Thread W's batch is being written (its pwrite held); thread S's batch, staged meanwhile,
// returns from put_batch at once and is written, published and completed by W.
TEST(CombinedWriteTest, ABatchStagedWhileAnotherIsWrittenIsCompletedByThatWriter) {
  HoldingPwrite pw;
  TempDir dir;
  StoreOptions o = combining_options(dir.path());
  o.flush_interval_ms = 60000;  // the flush thread would otherwise wait for the write lock too
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  g_hold = true;
  std::promise<std::thread::id> writer_id;
  std::thread writer([&] {
    writer_id.set_value(std::this_thread::get_id());
    auto rs = put_batch_wait(*store, batch(0, 0, 8));
    for (const PutResult& r : rs) EXPECT_TRUE(r.status) << r.status.to_string();
  });
  const std::thread::id w = writer_id.get_future().get();
  while (!g_held.load()) std::this_thread::sleep_for(1ms);

  std::promise<std::pair<std::thread::id, std::vector<PutResult>>> staged;
  store->put_batch(batch(1, 8, 8), [&staged](std::vector<PutResult> rs) {
    staged.set_value({std::this_thread::get_id(), std::move(rs)});
  });
  auto result = staged.get_future();
  EXPECT_EQ(result.wait_for(50ms), std::future_status::timeout) << "completed before its bytes were written";
  g_release = true;
  auto [completer, rs] = result.get();
  writer.join();
  EXPECT_EQ(completer, w);
  ASSERT_EQ(rs.size(), 8u);
  for (const PutResult& r : rs) EXPECT_TRUE(r.status) << r.status.to_string();
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(get_all(*store, "Comb", 0, 0, 100).messages.size(), 8u);
  GetResult g = get_all(*store, "Comb", 1, 0, 100);
  ASSERT_EQ(g.messages.size(), 8u);
  EXPECT_EQ(g.messages[0].body, std::string(1000, 'a' + 8));
  store->stop();
}

// The held write fails: the log turns read-only, and the writer's batch and the batch
// staged behind it both fail.
TEST(CombinedWriteTest, AFailedWriteFailsEveryBatchStagedBehindIt) {
  HoldingPwrite pw;
  TempDir dir;
  auto store = make_store(combining_options(dir.path()));
  ASSERT_TRUE(store->start());
  ASSERT_TRUE(put_batch_wait(*store, batch(0, 0, 8))[0].status);
  g_hold = true;
  g_fail = true;
  auto first = std::async(std::launch::async, [&] { return put_batch_wait(*store, batch(0, 8, 8)); });
  while (!g_held.load()) std::this_thread::sleep_for(1ms);
  std::promise<std::vector<PutResult>> staged;
  store->put_batch(batch(0, 16, 8), [&staged](std::vector<PutResult> rs) { staged.set_value(std::move(rs)); });
  g_release = true;
  for (const PutResult& r : first.get()) EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  for (const PutResult& r : staged.get_future().get()) {
    EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
    EXPECT_NE(r.status.message().find("read-only"), std::string::npos) << r.status.message();
  }
  EXPECT_TRUE(store->stats().read_only);
  // Read-only: reads stop at the flushed position, at most the first batch.
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_LE(get_all(*store, "Comb", 0, 0, 100).messages.size(), 8u);
  store->stop();
}

// Each of an appender's writes finds a new batch staged meanwhile (the pwrite seam stages
// it): the appender writes kCombineRounds (3) times, then hands what is still pending to the
// write requester (the flush thread in a store), which writes it.
std::function<void()> g_during_write;

ssize_t staging_pwrite(int fd, const void* buf, size_t count, off_t offset) {
  if (g_during_write) g_during_write();
  return ::pwrite(fd, buf, count, offset);
}

TEST(CombinedWriteTest, AnAppenderWritesThreeRoundsThenHandsTheRestToTheWriteRequester) {
  TempDir dir;
  CommitLog log(dir.path() + "/commitlog", 1 << 20);
  ASSERT_TRUE(log.load());
  log.set_append_with_pwrite(true, 4096);
  int requests = 0;
  log.set_write_requester([&] { ++requests; });
  std::vector<EncodedRecord> recs(8);
  auto stage = [&](int i) {
    StoredMessage m = make_message("Comb", 0, std::string(5000, 'a' + i));
    encode_record(m, HostAddress{}, &recs[static_cast<size_t>(i)]);
    AppendItem item{&recs[static_cast<size_t>(i)], m.topic, 0, true, {}};
    std::vector<AppendOutcome> out;
    ASSERT_TRUE(log.append(std::span<AppendItem>(&item, 1), &out, DeferWrite::kIfStaged));
  };
  int staged = 1;
  stage(0);
  g_during_write = [&] {
    if (staged < 5) stage(staged++);
  };
  set_pwrite_for_testing(&staging_pwrite);
  EXPECT_TRUE(log.write_combined());
  EXPECT_EQ(requests, 1) << "the appender did not hand the rest over";
  EXPECT_LT(log.write_pos(), log.appended_pos()) << "written past kCombineRounds";
  EXPECT_EQ(log.scan(0, false).records, 3u);  // rounds 1-3 wrote records 0, 1 and 2
  (void)log.write_pending();                  // the requester's round
  g_during_write = nullptr;
  set_pwrite_for_testing(nullptr);
  (void)log.write_pending();  // the record staged during that round
  EXPECT_EQ(log.write_pos(), log.appended_pos());
  EXPECT_EQ(log.scan(0, true).records, 5u);
}

// Four threads putting batches (and single small puts, which land behind staged batches)
// at once: every put is acknowledged once, and each queue reads back complete and in order.
TEST(CombinedWriteTest, ConcurrentPutsAreAllAcknowledgedAndReadBackInOrder) {
  TempDir dir;
  auto store = make_store(combining_options(dir.path()));
  ASSERT_TRUE(store->start());
  constexpr int kThreads = 4, kRounds = 60, kBatch = 6;
  std::vector<std::thread> threads;
  std::atomic<int> acked{0}, failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        std::vector<StoredMessage> ms;
        for (int i = 0; i < kBatch; ++i)
          ms.push_back(make_message("Comb", t, std::to_string(round * (kBatch + 1) + i) + std::string(900, 'x')));
        auto rs = put_batch_wait(*store, std::move(ms));
        for (const PutResult& r : rs) (r.status ? acked : failed).fetch_add(1);
        auto single = testing::put_wait(*store, make_message("Comb", t, std::to_string(round * (kBatch + 1) + kBatch)));
        (single.status ? acked : failed).fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(acked.load(), kThreads * kRounds * (kBatch + 1));
  ASSERT_TRUE(store->wait_dispatched(5s));
  for (int t = 0; t < kThreads; ++t) {
    int64_t next = 0;
    for (int64_t off = 0;;) {
      GetResult g = get_all(*store, "Comb", t, off, 500);
      if (g.messages.empty()) break;
      for (const StoredMessage& m : g.messages) {
        EXPECT_EQ(std::stoll(m.body), next) << "queue " << t;
        ++next;
      }
      off += static_cast<int64_t>(g.messages.size());
    }
    EXPECT_EQ(next, kRounds * (kBatch + 1)) << "queue " << t;
  }
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
