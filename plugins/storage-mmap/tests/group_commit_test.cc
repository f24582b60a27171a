// SYNC_FLUSH group commit: concurrent writers share msyncs (one msync acknowledges every
// put appended before it started), and every acknowledged put is on disk.
#include <sys/mman.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fake_host.h"
#include "mapped_file.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

// A slow device: every msync takes 20 ms more, so writers pile up behind a flush.
int slow_msync(void* addr, size_t len, int flags) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return ::msync(addr, len, flags);
}

struct SlowMsync {
  SlowMsync() { set_msync_for_testing(&slow_msync); }
  ~SlowMsync() { set_msync_for_testing(nullptr); }
};

// Parameter: appendWithPwrite (on: the puts' records are written by the flush thread).
class GroupCommitTest : public ::testing::TestWithParam<bool> {};

TEST_P(GroupCommitTest, ConcurrentSyncWritersShareMsyncs) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  o.append_with_pwrite = GetParam();
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  SlowMsync slow;
  const FlushService::Stats before = store->flush_stats();
  constexpr int kWriters = 16;
  constexpr int kPutsEach = 3;
  std::barrier start(kWriters);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      const std::string body = std::to_string(t);
      start.arrive_and_wait();
      for (int i = 0; i < kPutsEach; ++i) {
        PutResult r = put_wait(*store, make_message("GroupCommit", t % 4, body));
        EXPECT_TRUE(r.status) << r.status.to_string();
        EXPECT_GE(store->stats().flushed_commit_log_offset.value(), r.commit_log_offset.value() + r.wrote_bytes);
        if (r.status) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  const FlushService::Stats after = store->flush_stats();
  EXPECT_EQ(ok.load(), kWriters * kPutsEach);
  EXPECT_EQ(after.requests_done - before.requests_done, static_cast<uint64_t>(kWriters * kPutsEach));
  // One msync per put would be 48; 16 writers behind 20 ms msyncs need a handful per round.
  const uint64_t flushes = after.flushes - before.flushes;
  EXPECT_GE(flushes, 1u);
  EXPECT_LE(flushes, static_cast<uint64_t>(kWriters * kPutsEach / 3)) << "puts were not coalesced into shared msyncs";
  // Every acknowledged put is readable with its bytes, in per-queue order.
  ASSERT_TRUE(store->wait_dispatched(std::chrono::seconds(5)));
  int read = 0;
  for (QueueId q = 0; q < 4; ++q) {
    GetResult g = testing::get_all(*store, "GroupCommit", q, 0, 1000);
    for (const StoredMessage& m : g.messages) {
      EXPECT_EQ(std::stoi(m.body) % 4, q) << m.body;
      ++read;
    }
  }
  EXPECT_EQ(read, kWriters * kPutsEach);
  store->stop();
}

// SYNC_FLUSH with appendWithPwrite defers each waiting put's write to the flush thread. A
// put that does not wait (WAIT=false) behind such puts is deferred too, and still reaches
// the log without any waiting put after it; everything survives a restart.
TEST(DeferredWriteTest, PutsNotWaitingBehindDeferredPutsAreWrittenSoon) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  o.append_with_pwrite = true;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    SlowMsync slow;  // the flush thread is busy while the puts below arrive
    std::vector<std::future<PutResult>> waits;
    for (int i = 0; i < 8; ++i) {
      auto p = std::make_shared<std::promise<PutResult>>();
      waits.push_back(p->get_future());
      store->put(make_message("Mixed", 0, "wait-" + std::to_string(i)),
                 [p](PutResult r) { p->set_value(std::move(r)); });
      StoredMessage nowait = make_message("Mixed", 0, "nowait-" + std::to_string(i));
      nowait.set_property(prop::kWaitStoreMsgOk, "false");
      PutResult r = put_wait(*store, nowait);
      ASSERT_TRUE(r.status) << r.status.to_string();
    }
    for (auto& w : waits) ASSERT_TRUE(w.get().status);
    // The last non-waiting put had no waiting put after it: its own flush request wrote it.
    ASSERT_TRUE(store->wait_dispatched(std::chrono::seconds(5)));
    GetResult g = testing::get_all(*store, "Mixed", 0, 0, 100);
    ASSERT_EQ(g.messages.size(), 16u);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(g.messages[2 * i].body, "wait-" + std::to_string(i));
      EXPECT_EQ(g.messages[2 * i + 1].body, "nowait-" + std::to_string(i));
    }
    store->stop();
  }
  auto again = make_store(o);
  ASSERT_TRUE(again->start());
  ASSERT_TRUE(again->wait_dispatched(std::chrono::seconds(5)));
  EXPECT_EQ(testing::get_all(*again, "Mixed", 0, 0, 100).messages.size(), 16u);
  again->stop();
}

INSTANTIATE_TEST_SUITE_P(AppendWithPwrite, GroupCommitTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Pwrite" : "Mapping"; });

}  // namespace
}  // namespace mq::storage_mmap
