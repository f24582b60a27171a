// Consume-queue units are staged and written with one pwrite per run: readers see them once
// committed, a run never crosses a gap or a file, a failed write keeps them staged and holds
// the dispatcher (and readers) back until it succeeds.
#include "consume_queue.h"

#include <chrono>
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

TEST(ConsumeQueueTest, StagedUnitsAreInvisibleUntilCommitThenReadBackAndReload) {
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
    EXPECT_EQ(cq.max_offset(), 5);
    for (int64_t q = 0; q < 5; ++q) expect_unit(cq, q);
    ASSERT_TRUE(cq.flush());
  }
  ConsumeQueue again("T", 0, dir.path(), kUnitsPerFile * kCqUnitSize);
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.max_offset(), 5);
  for (int64_t q = 0; q < 5; ++q) expect_unit(again, q);
}

TEST(ConsumeQueueTest, AGapCommitsTheRunBeforeItAndLeavesHoles) {
  TempDir dir;
  ConsumeQueue cq("T", 1, dir.path(), 64 * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  for (int64_t q = 0; q < 4; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  ASSERT_TRUE(cq.put_unit(10, unit(10)));
  EXPECT_EQ(cq.max_offset(), 4);  // the run before the gap is written
  EXPECT_EQ(cq.write_end(), 11);
  ASSERT_TRUE(cq.commit());
  EXPECT_EQ(cq.max_offset(), 11);
  for (int64_t q = 0; q < 4; ++q) expect_unit(cq, q);
  expect_unit(cq, 10);
  for (int64_t q = 4; q < 10; ++q) {
    CqUnit u;
    ASSERT_TRUE(cq.read_unit(q, &u));
    EXPECT_EQ(u.size, 0) << "hole " << q;
  }
}

TEST(ConsumeQueueTest, ARunNeverCrossesIntoTheNextFile) {
  TempDir dir;
  ConsumeQueue cq("T", 2, dir.path(), kUnitsPerFile * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  for (int64_t q = 0; q < kUnitsPerFile + 3; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  EXPECT_EQ(cq.max_offset(), kUnitsPerFile);  // the first file's run was written at the boundary
  ASSERT_TRUE(cq.commit());
  EXPECT_EQ(cq.max_offset(), kUnitsPerFile + 3);
  for (int64_t q = 0; q < kUnitsPerFile + 3; ++q) expect_unit(cq, q);
}

TEST(ConsumeQueueTest, AFailedWriteKeepsTheUnitsStagedAndUnpublishedUntilARetrySucceeds) {
  TempDir dir;
  ConsumeQueue cq("T", 3, dir.path() + "/consumequeue/T/3", kUnitsPerFile * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  for (int64_t q = 0; q < 3; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  {
    FailingPwrites failing("/consumequeue/");
    Status st = cq.commit();
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find("consumequeue"), std::string::npos) << st.message();  // names the file
    EXPECT_EQ(FailingPwrites::count(), 1);
    EXPECT_EQ(cq.max_offset(), 0);
    EXPECT_TRUE(cq.has_staged());
  }
  ASSERT_TRUE(cq.commit());
  EXPECT_EQ(cq.max_offset(), 3);
  for (int64_t q = 0; q < 3; ++q) expect_unit(cq, q);
}

TEST(ConsumeQueueTest, TruncationDropsStagedUnits) {
  TempDir dir;
  ConsumeQueue cq("T", 4, dir.path(), kUnitsPerFile * kCqUnitSize);
  ASSERT_TRUE(cq.load());
  for (int64_t q = 0; q < 2; ++q) ASSERT_TRUE(cq.put_unit(q, unit(q)));
  ASSERT_TRUE(cq.commit());
  ASSERT_TRUE(cq.put_unit(2, unit(2)));
  auto dropped = cq.truncate_beyond(unit(1).commit_log_offset + unit(1).size);
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(cq.has_staged());
  EXPECT_EQ(cq.write_end(), 2);
  ASSERT_TRUE(cq.commit());
  EXPECT_EQ(cq.max_offset(), 2);
}

// Through the store: while the consume queue cannot be written, the dispatcher neither
// publishes the units nor moves past the records; once it can, the messages appear.
TEST(ConsumeQueueTest, TheDispatcherHoldsBackUntilAFailedUnitWriteSucceeds) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<StoredMessage> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(make_message("CqFail", 0, "body-" + std::to_string(i)));
  {
    FailingPwrites failing("/consumequeue/");
    for (const PutResult& r : put_batch_wait(*store, batch)) ASSERT_TRUE(r.status) << r.status.message();
    for (int i = 0; i < 200 && FailingPwrites::count() < 2; ++i) std::this_thread::sleep_for(5ms);
    EXPECT_GE(FailingPwrites::count(), 2);  // tried, failed, retried
    EXPECT_EQ(get_all(*store, "CqFail", 0, 0).messages.size(), 0u);
  }
  size_t seen = 0;
  for (int i = 0; i < 400 && seen < batch.size(); ++i) {
    seen = get_all(*store, "CqFail", 0, 0).messages.size();
    if (seen < batch.size()) std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(seen, batch.size());
  auto got = get_all(*store, "CqFail", 0, 0);
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(got.messages[i].body, batch[i].body);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
