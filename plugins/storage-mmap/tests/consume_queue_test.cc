// Consume-queue units are staged, published into an in-memory write-behind tail by commit()
// and written into the files by write_out(): readers see them once committed, from the tail
// or the files alike; a gap writes the tail out (holes stay in the files); a write-out splits
// at file boundaries; a tail that is full and cannot be written holds the units staged; the
// dispatcher writes every tail out within StoreOptions::consume_queue_write_out_ms.
#include "consume_queue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fake_host.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::FailingPwrites;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_batch_wait;
using testing::small_options;
using testing::TempDir;

constexpr int64_t kUnitsPerFile = 8;

CqUnit unit(int64_t q) {
  return CqUnit{1000 + q * 100, 91 + static_cast<int32_t>(q), 0x1234500 + q};
}

void expect_unit(const ConsumeQueue& cq, int64_t q) {
  CqUnit u;
  ASSERT_TRUE(cq.read_unit(q, &u)) << "unit " << q;
  EXPECT_EQ(u.commit_log_offset, unit(q).commit_log_offset) << "unit " << q;
  EXPECT_EQ(u.size, unit(q).size) << "unit " << q;
  EXPECT_EQ(u.tag_hash, unit(q).tag_hash) << "unit " << q;
}

// A fresh ConsumeQueue on the same files ends at `units` and reads every unit back.
void expect_reloaded(const std::string& dir, QueueId queue_id, int64_t file_size, int64_t units) {
  ConsumeQueue again("T", queue_id, dir, file_size);
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.max_offset(), units);
  EXPECT_EQ(again.file_end(), units);
  for (int64_t q = 0; q < units; ++q) expect_unit(again, q);
}

TEST(ConsumeQueueTest, StagedUnitsAreInvisibleUntilCommitThenReadFromTheTailThenFromTheFiles) {
  TempDir dir;
  {
    ConsumeQueue cq("T", 0, dir.path(), kUnitsPerFile * kCqUnitSize);
    ASSERT_TRUE(cq.load());
    for (int64_t q = 0; q < 5; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
    EXPECT_EQ(cq.max_offset(), 0);
    EXPECT_EQ(cq.write_end(), 5);
    CqUnit u;
    EXPECT_FALSE(cq.read_unit(0, &u));
    // Idempotent over staged units too.
    ASSERT_TRUE(cq.put_unit(3, CqUnit{1, 2, 3}));
    EXPECT_EQ(cq.write_end(), 5);
    ASSERT_TRUE(cq.commit());
    EXPECT_FALSE(cq.has_staged());
    EXPECT_TRUE(cq.has_tail());
    EXPECT_EQ(cq.max_offset(), 5);
    EXPECT_EQ(cq.file_end(), 0);  // in the tail only
    for (int64_t q = 0; q < 5; ++q) expect_unit(cq, q);
    ASSERT_TRUE(cq.write_out());
    EXPECT_FALSE(cq.has_tail());
    EXPECT_EQ(cq.file_end(), 5);
    for (int64_t q = 0; q < 5; ++q) expect_unit(cq, q);
    ASSERT_TRUE(cq.flush());
  }
  expect_reloaded(dir.path(), 0, kUnitsPerFile * kCqUnitSize, 5);
}

TEST(ConsumeQueueTest, AGapWritesTheTailOutAndLeavesHolesInTheFiles) {
  TempDir dir;
  ConsumeQueue cq("T", 1, dir.path(), 64 * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  for (int64_t q = 0; q < 4; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  ASSERT_TRUE(cq.put_unit(10, unit(10)));
  EXPECT_EQ(cq.max_offset(), 4);  // the run before the gap is published and written
  EXPECT_EQ(cq.file_end(), 4);
  EXPECT_EQ(cq.write_end(), 11);
  ASSERT_TRUE(cq.commit());
  EXPECT_EQ(cq.max_offset(), 11);
  EXPECT_EQ(cq.file_end(), 10);  // the tail starts after the holes
  for (int64_t q = 0; q < 4; ++q) expect_unit(cq, q);
  expect_unit(cq, 10);
  for (int64_t q = 4; q < 10; ++q) {
    CqUnit u;
    ASSERT_TRUE(cq.read_unit(q, &u));
    EXPECT_EQ(u.size, 0) << "hole " << q;
  }
  ASSERT_TRUE(cq.write_out());
  EXPECT_EQ(cq.file_end(), 11);
  expect_unit(cq, 10);
}

TEST(ConsumeQueueTest, AWriteOutSplitsAtFileBoundaries) {
  TempDir dir;
  {
    ConsumeQueue cq("T", 2, dir.path(), kUnitsPerFile * kCqUnitSize);
    ASSERT_TRUE(cq.load());
    for (int64_t q = 0; q < 2 * kUnitsPerFile + 3; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
    ASSERT_TRUE(cq.commit());
    EXPECT_EQ(cq.max_offset(), 2 * kUnitsPerFile + 3);
    ASSERT_TRUE(cq.write_out());
    EXPECT_EQ(cq.file_end(), 2 * kUnitsPerFile + 3);
    for (int64_t q = 0; q < 2 * kUnitsPerFile + 3; ++q) expect_unit(cq, q);
    ASSERT_TRUE(cq.flush());
  }
  expect_reloaded(dir.path(), 2, kUnitsPerFile * kCqUnitSize, 2 * kUnitsPerFile + 3);
}

// A failed write-out keeps the tail (still readable) and a later one writes it whole; once
// the tail is full, commit() writes it first, and if that fails the units stay staged and
// unpublished: memory stays bounded and the dispatcher is held back.
TEST(ConsumeQueueTest, AFullTailThatCannotBeWrittenKeepsTheUnitsStagedUntilARetrySucceeds) {
  TempDir dir;
  ConsumeQueue cq("T", 3, dir.path() + "/consumequeue/T/3", 4096 * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  const int64_t full = (static_cast<int64_t>(ConsumeQueue::kWriteBehindBytes) + kCqUnitSize - 1) / kCqUnitSize;
  for (int64_t q = 0; q < full; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  ASSERT_TRUE(cq.commit());
  ASSERT_TRUE(cq.put_unit(full, unit(full)));
  {
    FailingPwrites failing("/consumequeue/");
    Status st = cq.write_out();
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("consumequeue"), std::string::npos) << st.message();  // names the file
    EXPECT_EQ(cq.file_end(), 0);
    EXPECT_TRUE(cq.has_tail());
    expect_unit(cq, full - 1);
    st = cq.commit();
    ASSERT_FALSE(st);
    EXPECT_EQ(FailingPwrites::count(), 2);
    EXPECT_EQ(cq.max_offset(), full);
    EXPECT_TRUE(cq.has_staged());
  }
  ASSERT_TRUE(cq.commit());  // writes the full tail, then publishes
  EXPECT_EQ(cq.file_end(), full);
  EXPECT_EQ(cq.max_offset(), full + 1);
  for (int64_t q = 0; q <= full; ++q) expect_unit(cq, q);
}

TEST(ConsumeQueueTest, TruncationKeepsTheTailsUnitsBelowTheCutAndDropsStagedOnes) {
  TempDir dir;
  {
    ConsumeQueue cq("T", 4, dir.path(), kUnitsPerFile * kCqUnitSize);
    ASSERT_TRUE(cq.load());
    for (int64_t q = 0; q < 5; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
    ASSERT_TRUE(cq.commit());
    ASSERT_TRUE(cq.put_unit(5, unit(5)));
    auto dropped = cq.truncate_beyond(unit(2).commit_log_offset + unit(2).size);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(*dropped, 2);
    EXPECT_FALSE(cq.has_staged());
    EXPECT_FALSE(cq.has_tail());
    EXPECT_EQ(cq.write_end(), 3);
    EXPECT_EQ(cq.file_end(), 3);
    for (int64_t q = 0; q < 3; ++q) expect_unit(cq, q);
    ASSERT_TRUE(cq.flush());
  }
  expect_reloaded(dir.path(), 4, kUnitsPerFile * kCqUnitSize, 3);
}

// Readers on another thread see every published unit whole while the writer publishes and
// writes the tail out across files.
TEST(ConsumeQueueTest, ReadersSeeEveryPublishedUnitWhileTheTailIsWrittenOut) {
  TempDir dir;
  ConsumeQueue cq("T", 5, dir.path(), 1000 * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  constexpr int64_t kUnits = 60000;
  std::atomic<bool> done{false};
  std::atomic<int64_t> bad{-1};
  std::atomic<int64_t> reads{0};
  std::thread reader([&] {
    uint64_t x = 12345;
    while (!done.load(std::memory_order_acquire)) {
      const int64_t max = cq.max_offset();
      if (max == 0) continue;
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      // Mostly near the end, where the tail and the files meet.
      const int64_t q = (x >> 33) % 4 == 0 ? static_cast<int64_t>((x >> 13) % static_cast<uint64_t>(max))
                                           : std::max<int64_t>(0, max - 1 - static_cast<int64_t>((x >> 13) % 64));
      CqUnit u;
      if (!cq.read_unit(q, &u) || u.commit_log_offset != unit(q).commit_log_offset || u.size != unit(q).size ||
          u.tag_hash != unit(q).tag_hash)
        bad.store(q);
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  bool written = true;  // (no ASSERT while the reader runs: it must be joined)
  for (int64_t q = 0; q < kUnits && written; ++q) {
    written = cq.put_unit(q, unit(q)).is_ok();
    if (written && q % 37 == 36) written = cq.commit().is_ok();
    if (written && q % 5003 == 5002) written = cq.write_out(/*trim=*/q % 2 == 0).is_ok();
  }
  written = written && cq.commit().is_ok() && cq.write_out().is_ok();
  while (written && reads.load() < 1000) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  reader.join();
  ASSERT_TRUE(written);
  EXPECT_EQ(bad.load(), -1) << "unit " << bad.load() << " read wrong";
  EXPECT_EQ(cq.file_end(), kUnits);
  for (int64_t q = 0; q < kUnits; q += 997) expect_unit(cq, q);
}

// Through the store: while the consume queue cannot be written, messages stay readable (from
// the tail) and the dispatcher retries; once it can, the units reach the queue's file within
// the dispatcher's write-out period and a restart finds them.
TEST(ConsumeQueueTest, TheDispatcherRetriesAFailedWriteOutAndTheUnitsReachTheFile) {
  TempDir dir;
  std::vector<StoredMessage> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(make_message("CqFail", 0, "body-" + std::to_string(i)));
  {
    auto store = make_store(small_options(dir.path()));
    ASSERT_TRUE(store->start());
    {
      FailingPwrites failing("/consumequeue/");
      for (const PutResult& r : put_batch_wait(*store, batch)) ASSERT_TRUE(r.status) << r.status.message();
      for (int i = 0; i < 800 && FailingPwrites::count() < 2; ++i) std::this_thread::sleep_for(5ms);
      EXPECT_GE(FailingPwrites::count(), 2);  // tried, failed, retried
      EXPECT_EQ(get_all(*store, "CqFail", 0, 0).messages.size(), batch.size());
    }
    // Unit 9's size, read from the file (not through the store, which may read the tail).
    const std::string file = dir.path() + "/consumequeue/CqFail/0/" + offset_to_file_name(0);
    auto size_in_file = [&] {
      std::ifstream in(file, std::ios::binary);
      unsigned char b[4] = {};
      in.seekg(9 * kCqUnitSize + 8);
      in.read(reinterpret_cast<char*>(b), 4);
      return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    };
    for (int i = 0; i < 400 && size_in_file() == 0; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_NE(size_in_file(), 0u) << "the tail was not written out within the dispatcher's period";
    store->stop();
  }
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  auto got = get_all(*store, "CqFail", 0, 0);
  ASSERT_EQ(got.messages.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(got.messages[i].body, batch[i].body);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
