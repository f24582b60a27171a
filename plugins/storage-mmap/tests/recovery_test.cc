// Start-up recovery: clean restart, crash with torn / garbage tails, rebuilding deleted
// consume queues and checkpoint, and the lock file.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "checkpoint.h"
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

namespace fs = std::filesystem;

std::string body_of(int queue, int i) {
  return "q" + std::to_string(queue) + "-" + std::to_string(i) + std::string(300, 'r');
}

// Reads the whole queue and checks bodies are body_of(queue, 0..n-1) in order.
void expect_queue(MmapStore& store, const std::string& topic, int queue, int n) {
  int64_t next = 0;
  int seen = 0;
  while (true) {
    GetResult g = get_all(store, topic, queue, next, 64);
    if (g.status != GetStatus::kFound) {
      EXPECT_EQ(g.status, n == 0 ? GetStatus::kNoMessageInQueue : GetStatus::kOffsetOverflowOne)
          << topic << "/" << queue << " at " << next;
      break;
    }
    for (const auto& m : g.messages) {
      EXPECT_EQ(m.queue_offset.value(), seen);
      EXPECT_EQ(m.body, body_of(queue, seen)) << topic << "/" << queue;
      ++seen;
    }
    next = g.next_begin_offset.value();
  }
  EXPECT_EQ(seen, n) << topic << "/" << queue;
  EXPECT_EQ(store.max_offset(topic, queue).value(), n);
}

// Puts n messages into each of `queues` queues (interleaved); returns the results.
std::vector<PutResult> fill(MmapStore& store, const std::string& topic, int queues, int n, int start = 0) {
  std::vector<PutResult> out;
  for (int i = start; i < start + n; ++i) {
    for (int q = 0; q < queues; ++q) {
      out.push_back(put_wait(store, make_message(topic, q, body_of(q, i))));
      EXPECT_TRUE(out.back().status) << out.back().status.to_string();
      EXPECT_EQ(out.back().queue_offset.value(), i);
    }
  }
  return out;
}

void touch(const std::string& path) {
  std::ofstream(path).put('\0');
}

TEST(RecoveryTest, CleanRestartKeepsMessagesAndQueueOffsetsContinue) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    EXPECT_TRUE(fs::exists(dir.path() + "/abort"));
    EXPECT_TRUE(fs::exists(dir.path() + "/lock"));
    fill(*store, "Clean", 3, 150);
    store->stop();
    EXPECT_FALSE(fs::exists(dir.path() + "/abort"));
    EXPECT_TRUE(fs::exists(dir.path() + "/checkpoint"));
  }
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  for (int q = 0; q < 3; ++q) expect_queue(*store, "Clean", q, 150);
  fill(*store, "Clean", 3, 10, 150);
  ASSERT_TRUE(store->wait_dispatched(5s));
  for (int q = 0; q < 3; ++q) expect_queue(*store, "Clean", q, 160);
  store->stop();
}

TEST(RecoveryTest, CrashRecoveryTruncatesTornTailAndGarbage) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  std::vector<PutResult> puts;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    puts = fill(*store, "Crash", 2, 100);  // 200 records, ~4 segments
    store->stop();
  }
  // Simulate a crash: abort file left behind, a checkpoint that only covers the first 20
  // records, the last record torn (its last byte lost) and garbage after it.
  touch(dir.path() + "/abort");
  CheckpointData cp;
  cp.commit_log_flushed = puts[20].commit_log_offset.value();
  cp.consume_queue_safe = puts[20].commit_log_offset.value();
  ASSERT_TRUE(store_checkpoint(dir.path() + "/checkpoint", cp));
  const PutResult& last = puts.back();
  int64_t seg = o.commit_log_segment_size;
  std::string path = dir.path() + "/commitlog/" + offset_to_file_name(last.commit_log_offset.value() / seg * seg);
  {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    int64_t in_file = last.commit_log_offset.value() % seg;
    char zero = 0;
    ASSERT_EQ(::pwrite(fd, &zero, 1, in_file + last.wrote_bytes - 1), 1);
    std::string garbage(700, '\x5a');
    ASSERT_EQ(::pwrite(fd, garbage.data(), garbage.size(), in_file + last.wrote_bytes), 700);
    ::close(fd);
  }
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    // The torn record (queue 1, offset 99) is gone, everything before it is intact.
    expect_queue(*store, "Crash", 0, 100);
    expect_queue(*store, "Crash", 1, 99);
    EXPECT_EQ(store->stats().max_commit_log_offset, last.commit_log_offset);
    // Appends continue where the valid log ends, with the queue offset the torn one had.
    PutResult r = put_wait(*store, make_message("Crash", 1, body_of(1, 99)));
    ASSERT_TRUE(r.status);
    EXPECT_EQ(r.commit_log_offset, last.commit_log_offset);
    EXPECT_EQ(r.queue_offset.value(), 99);
    store->stop();
  }
  // The garbage was zeroed: a second (crash) recovery finds exactly the same log.
  touch(dir.path() + "/abort");
  ASSERT_TRUE(fs::remove(dir.path() + "/checkpoint"));
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  expect_queue(*store, "Crash", 0, 100);
  expect_queue(*store, "Crash", 1, 100);
  store->stop();
}

TEST(RecoveryTest, CrashRecoveryRebuildsConsumeQueuesBehindTheLog) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  std::vector<PutResult> puts;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    puts = fill(*store, "Behind", 1, 60);
    store->stop();
  }
  // Crash after the commit log was written but before the consume queue caught up: cut
  // the CQ file back to 10 units and point the checkpoint at record 10.
  std::string cq = dir.path() + "/consumequeue/Behind/0/" + offset_to_file_name(0);
  {
    int fd = ::open(cq.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    std::string zeros(50 * 20, '\0');
    ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 10 * 20), static_cast<ssize_t>(zeros.size()));
    ::close(fd);
  }
  touch(dir.path() + "/abort");
  CheckpointData cp;
  cp.commit_log_flushed = puts[10].commit_log_offset.value();
  cp.consume_queue_safe = puts[10].commit_log_offset.value();
  ASSERT_TRUE(store_checkpoint(dir.path() + "/checkpoint", cp));
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  expect_queue(*store, "Behind", 0, 60);
  store->stop();
}

TEST(RecoveryTest, DeletedConsumeQueuesAndCheckpointAreRebuilt) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    fill(*store, "RebuildA", 2, 120);
    fill(*store, "RebuildB", 1, 30);
    store->stop();
  }
  fs::remove_all(dir.path() + "/consumequeue");
  fs::remove(dir.path() + "/checkpoint");
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  EXPECT_TRUE(fs::exists(dir.path() + "/consumequeue/RebuildA/1/" + offset_to_file_name(0)));
  expect_queue(*store, "RebuildA", 0, 120);
  expect_queue(*store, "RebuildA", 1, 120);
  expect_queue(*store, "RebuildB", 0, 30);
  PutResult r = put_wait(*store, make_message("RebuildB", 0, body_of(0, 30)));
  EXPECT_EQ(r.queue_offset.value(), 30);
  store->stop();
}

TEST(RecoveryTest, SameStoreObjectRestartsAfterStop) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  fill(*store, "Again", 1, 5);
  store->stop();
  ASSERT_TRUE(store->start());
  fill(*store, "Again", 1, 5, 5);
  ASSERT_TRUE(store->wait_dispatched(5s));
  expect_queue(*store, "Again", 0, 10);
  store->stop();
}

TEST(RecoveryTest, LockRefusesASecondStoreOnTheSameDirectory) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  auto first = make_store(o);
  ASSERT_TRUE(first->start());
  auto second = make_store(o);
  Status st = second->start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Code::kServiceNotAvailable);
  EXPECT_NE(st.message().find(dir.path()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("pid " + std::to_string(::getpid())), std::string::npos) << st.message();
  first->stop();
  EXPECT_TRUE(second->start());
  second->stop();
}

// The key index is flushed less often than the consume queues: the checkpoint's safe
// offset must not pass what the index has on disk, so a crash re-indexes from there.
TEST(RecoveryTest, CheckpointWaitsForTheKeyIndexFlush) {
  for (const bool index_flushed : {false, true}) {
    SCOPED_TRACE(index_flushed ? "index flushed with the queues" : "index not flushed yet");
    TempDir dir;
    StoreOptions o = small_options(dir.path());
    o.flush_least_pages = 0;  // flush the log at every turn of the flush thread
    o.flush_consume_queue_interval_ms = 20;
    o.flush_index_interval_ms = index_flushed ? 20 : 3600000;
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    std::string warning;  // an empty store writes no checkpoint at start: safe offset 0
    auto at_start = load_checkpoint(dir.path() + "/checkpoint", &warning);
    const int64_t safe_at_start = at_start ? at_start->consume_queue_safe : 0;
    PutResult last;
    for (int i = 0; i < 20; ++i) last = put_wait(*store, make_message("Cp", 0, "m" + std::to_string(i)));
    ASSERT_TRUE(last.status);
    const int64_t end = last.commit_log_offset.value() + last.wrote_bytes;
    ASSERT_TRUE(store->wait_dispatched(5s));
    // Several consume-queue flushes (and checkpoints) later:
    std::optional<CheckpointData> cp;
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(20ms);
      cp = load_checkpoint(dir.path() + "/checkpoint", &warning);
      if (!cp) continue;  // not written yet
      if (cp->commit_log_flushed >= end && (!index_flushed || cp->consume_queue_safe >= end)) break;
    }
    ASSERT_TRUE(cp) << warning;
    EXPECT_GE(cp->commit_log_flushed, end);
    if (index_flushed) {
      EXPECT_EQ(cp->consume_queue_safe, end);
    } else {
      EXPECT_EQ(cp->consume_queue_safe, safe_at_start);
    }
    store->stop();
  }
}

}  // namespace
}  // namespace mq::storage_mmap
