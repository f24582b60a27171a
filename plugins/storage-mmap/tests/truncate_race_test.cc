// Review finding 10 (storage parts) and finding 4's store side: a SYNC_FLUSH completion
// answered while the flush service stops is never OK; readers during truncate_to fail
// cleanly instead of skipping; zeroing a range never punches holes; the recovered end.
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "fake_host.h"
#include "flush_service.h"
#include "mapped_file.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::FakeHost;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

TEST(TruncateRaceTest, SyncFlushCompletionWhileStoppingIsNeverOk) {
  // A put appended just before truncate_to closed the log and submitted after the flush
  // service stopped used to be answered OK from flushed_pos(), for bytes about to be cut.
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  FakeHost host(dir.path());
  CommitLog log(dir.path() + "/commitlog", o.commit_log_segment_size);
  ConsumeQueueStore queues(dir.path() + "/consumequeue", o.consume_queue_file_size);
  Dispatcher dispatcher(log, queues, nullptr, std::chrono::milliseconds(o.consume_queue_write_out_ms),
                        host.logger("storage-mmap"));
  FlushService flush(log, queues, nullptr, dispatcher, o, dir.path() + "/checkpoint", dir.path() + "/catalog",
                     host.logger("storage-mmap"));
  flush.start();
  ASSERT_TRUE(flush.stop());
  std::promise<Status> p;
  flush.submit(log.flushed_pos(), [&](Status st) { p.set_value(std::move(st)); });  // "covered" by the final flush
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kServiceNotAvailable);
}

std::atomic<bool> g_armed{false};
std::atomic<bool> g_in_msync{false};
std::atomic<std::thread::id> g_truncator{};

// While armed: every msync of the truncating thread takes 300 ms and says so (its flushes
// inside truncate_to become a window; the flush thread's periodic msyncs are not slowed).
int slow_msync(void* addr, size_t len, int flags) {
  if (g_armed.load() && std::this_thread::get_id() == g_truncator.load()) {
    g_in_msync.store(true);
    std::this_thread::sleep_for(300ms);
  }
  return ::msync(addr, len, flags);
}

TEST(TruncateRaceTest, ReadersDuringTruncationFailCleanly) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 40; ++i) puts.push_back(put_wait(*store, make_message("Race", 0, "body-" + std::to_string(i))));
  ASSERT_TRUE(store->wait_dispatched(5s));
  set_msync_for_testing(&slow_msync);
  g_in_msync.store(false);
  g_armed.store(true);
  auto truncation = std::async(std::launch::async, [&] {
    g_truncator.store(std::this_thread::get_id());
    return store->truncate_to(puts[20].commit_log_offset);
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!g_in_msync.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(g_in_msync.load());
  // Inside truncate_to (its flushes are slow now): reads of bytes below and above the cut
  // and pulls all answer "retry", never data that is being cut and never a skipped offset.
  if (truncation.wait_for(0s) != std::future_status::ready) {
    EXPECT_EQ(store->read_at(puts[30].commit_log_offset).status().code(), Code::kServiceNotAvailable);
    EXPECT_EQ(store->read_at(puts[5].commit_log_offset).status().code(), Code::kServiceNotAvailable);
    EXPECT_EQ(store->read_raw(puts[25].commit_log_offset, 4096).status().code(), Code::kServiceNotAvailable);
    GetRequest req;
    req.topic = "Race";
    req.queue_id = 0;
    req.offset = QueueOffset(18);
    req.max_count = 32;
    GetResult g = store->get(req);
    EXPECT_EQ(g.status, GetStatus::kOffsetFoundNull);
    EXPECT_TRUE(g.messages.empty());
    EXPECT_EQ(g.next_begin_offset.value(), 18);
  }
  g_armed.store(false);
  auto r = truncation.get();
  set_msync_for_testing(nullptr);
  ASSERT_TRUE(r) << r.status().to_string();
  // After it: normal answers again.
  EXPECT_TRUE(store->read_at(puts[5].commit_log_offset));
  EXPECT_FALSE(store->read_at(puts[30].commit_log_offset));
  store->stop();
}

TEST(TruncateRaceTest, ZeroRangeKeepsBlocksAllocated) {
  // A punched hole makes the next append fault in a new block: SIGBUS on a full disk.
  TempDir dir;
  const int64_t size = 256 * 1024;
  auto f = MappedFile::open(dir.path() + "/seg", 0, size);
  ASSERT_TRUE(f) << f.status().to_string();
  std::memset((*f)->data(), 'x', static_cast<size_t>(size));
  ASSERT_TRUE((*f)->flush(0, size));
  struct stat before {};
  ASSERT_EQ(::stat((dir.path() + "/seg").c_str(), &before), 0);
  ASSERT_TRUE((*f)->zero_range(1000, size));
  struct stat after {};
  ASSERT_EQ(::stat((dir.path() + "/seg").c_str(), &after), 0);
  EXPECT_GE(after.st_blocks, before.st_blocks);
  for (int64_t i = 1000; i < size; i += 997) ASSERT_EQ((*f)->data()[i], 0) << i;
  EXPECT_EQ((*f)->data()[999], 'x');
}

TEST(TruncateRaceTest, StatsReportTheEndRecoveryLeft) {
  TempDir dir;
  {
    auto store = make_store(small_options(dir.path()));
    ASSERT_TRUE(store->start());
    EXPECT_EQ(store->stats().recovered_commit_log_offset.value(), 0);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(put_wait(*store, make_message("Rec", 0, "b")).status);
    store->stop();
  }
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  const CommitLogOffset recovered = store->stats().max_commit_log_offset;
  EXPECT_GT(recovered.value(), 0);
  EXPECT_EQ(store->stats().recovered_commit_log_offset, recovered);
  PutResult later = put_wait(*store, make_message("Rec", 0, "after-start"));  // e.g. a plugin's put
  ASSERT_TRUE(later.status);
  EXPECT_EQ(store->stats().recovered_commit_log_offset, recovered);  // unchanged by puts
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
