// SYNC_FLUSH group commit: concurrent writers share msyncs (one msync acknowledges every
// put appended before it started), and every acknowledged put is on disk.
#include <sys/mman.h>

#include <atomic>
#include <barrier>
#include <chrono>
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

TEST(GroupCommitTest, ConcurrentSyncWritersShareMsyncs) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
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
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
