// Recovery hardening: corruption in the middle of the log refuses start-up (a torn tail is
// truncated), a bit flip before the checkpoint is never served, a segment cut at a random
// byte, and deleted / garbled consume queues, catalog and checkpoint rebuilt identically.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

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
constexpr int64_t kSeg = 64 * 1024;

std::string body(int i) {
  return "m" + std::to_string(i) + "-" + std::string(200 + (i * 37) % 900, 'a' + i % 26);
}

std::vector<PutResult> write_and_stop(const StoreOptions& o, int n, const std::string& topic = "Hard") {
  auto store = make_store(o);
  EXPECT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < n; ++i) {
    puts.push_back(put_wait(*store, make_message(topic, i % 4, body(i))));
    EXPECT_TRUE(puts.back().status);
  }
  store->stop();
  return puts;
}

void simulate_crash(const std::string& root, int64_t checkpoint_offset) {
  std::ofstream(root + "/abort").put('\0');
  CheckpointData cp;
  cp.commit_log_flushed = checkpoint_offset;
  cp.consume_queue_safe = checkpoint_offset;
  ASSERT_TRUE(store_checkpoint(root + "/checkpoint", cp));
}

void flip_bit(const std::string& root, int64_t offset) {
  std::string path = root + "/commitlog/" + offset_to_file_name(offset / kSeg * kSeg);
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, offset % kSeg), 1);
  c ^= 0x04;
  ASSERT_EQ(::pwrite(fd, &c, 1, offset % kSeg), 1);
  ::close(fd);
}

// (queue, queue offset) -> commit-log offset, for every message of `topic`.
std::map<std::pair<int, int64_t>, int64_t> units(MmapStore& store, const std::string& topic) {
  std::map<std::pair<int, int64_t>, int64_t> out;
  for (int q = 0; q < 4; ++q) {
    int64_t next = store.min_offset(topic, q).value();
    while (true) {
      GetResult g = get_all(store, topic, q, next, 64);
      if (g.status != GetStatus::kFound) break;
      for (const auto& m : g.messages) out[{q, m.queue_offset.value()}] = m.commit_log_offset.value();
      next = g.next_begin_offset.value();
    }
  }
  return out;
}

TEST(RecoveryHardeningTest, BitFlipInSealedSegmentFollowedByValidRecordsRefusesStart) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  auto puts = write_and_stop(o, 300);  // ~4 segments
  // A record in the middle of segment 1 (sealed: later segments hold valid records).
  const PutResult* victim = nullptr;
  for (const auto& p : puts)
    if (p.commit_log_offset.value() > kSeg + 20000) {
      victim = &p;
      break;
    }
  ASSERT_NE(victim, nullptr);
  simulate_crash(dir.path(), puts[10].commit_log_offset.value());
  flip_bit(dir.path(), victim->commit_log_offset.value() + 100);  // in the body
  {
    auto store = make_store(o);
    Status st = store->start();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.code(), Code::kServiceNotAvailable);
    EXPECT_NE(st.message().find("corrupt in the middle"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(offset_to_file_name(kSeg)), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(std::to_string(victim->commit_log_offset.value())), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("CRC"), std::string::npos) << st.message();
  }
  // Nothing was truncated by the refused start: every segment is still there.
  EXPECT_TRUE(fs::exists(dir.path() + "/commitlog/" + offset_to_file_name(3 * kSeg)));
  // The operator's explicit override truncates at the corrupt record.
  o.truncate_corrupt_commit_log = true;
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  EXPECT_EQ(store->stats().max_commit_log_offset, victim->commit_log_offset);
  store->stop();
}

TEST(RecoveryHardeningTest, BitFlipBelowTheCheckpointIsReportedAndNeverServed) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  auto puts = write_and_stop(o, 100);
  flip_bit(dir.path(), puts[20].commit_log_offset.value() + 120);  // queue 0, offset 5
  auto store = make_store(o);
  ASSERT_TRUE(store->start());  // clean start: scans only the last segment
  GetResult g = get_all(*store, "Hard", 0, 0, 64);
  ASSERT_EQ(g.status, GetStatus::kFound);
  ASSERT_EQ(g.messages.size(), 5u);  // stops before the bad record, never skips it
  EXPECT_EQ(g.next_begin_offset.value(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g.messages[i].body, body(i * 4));
  g = get_all(*store, "Hard", 0, 5, 64);
  EXPECT_EQ(g.status, GetStatus::kOffsetFoundNull);
  EXPECT_TRUE(g.messages.empty());
  // The record copies of a pull stop at the same place.
  GetRequest req;
  req.topic = "Hard";
  req.max_count = 64;
  GetRecordsResult rec;
  ASSERT_TRUE(store->get_records(req, &rec));
  EXPECT_EQ(rec.get.status, GetStatus::kFound);
  EXPECT_EQ(rec.record_count, 5);
  EXPECT_EQ(rec.get.next_begin_offset.value(), 5);
  req.offset = QueueOffset(5);
  ASSERT_TRUE(store->get_records(req, &rec));
  EXPECT_EQ(rec.get.status, GetStatus::kOffsetFoundNull);
  EXPECT_EQ(rec.record_count, 0);
  EXPECT_TRUE(rec.records.empty());
  auto r = store->read_at(puts[20].commit_log_offset);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Code::kSystemError);
  EXPECT_NE(r.status().message().find("CRC"), std::string::npos) << r.status().message();
  store->stop();
}

TEST(RecoveryHardeningTest, ActiveSegmentCutAtRandomBytesKeepsEveryWholeRecord) {
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    StoreOptions o = small_options(dir.path());
    auto puts = write_and_stop(o, 250);
    const int64_t last_base = puts.back().commit_log_offset.value() / kSeg * kSeg;
    const int64_t used = puts.back().commit_log_offset.value() + puts.back().wrote_bytes - last_base;
    const int64_t cut = std::uniform_int_distribution<int64_t>(1, used - 1)(rng);
    simulate_crash(dir.path(), puts[0].commit_log_offset.value());
    ASSERT_EQ(::truncate((dir.path() + "/commitlog/" + offset_to_file_name(last_base)).c_str(), cut), 0);
    auto store = make_store(o);
    ASSERT_TRUE(store->start()) << "cut at " << cut;
    int expect = 0;
    for (const auto& p : puts)
      if (p.commit_log_offset.value() + p.wrote_bytes <= last_base + cut) ++expect;
    auto u = units(*store, "Hard");
    EXPECT_EQ(static_cast<int>(u.size()), expect) << "cut at " << cut;
    for (int i = 0; i < expect; ++i) {
      auto m = store->read_at(puts[i].commit_log_offset);
      ASSERT_TRUE(m) << m.status().to_string();
      EXPECT_EQ(m->body, body(i));
    }
    // Appends continue right after the last whole record (or at the active segment's
    // start when the cut lost all of its records: the sealed segment before it ends with
    // its blank marker).
    PutResult next = put_wait(*store, make_message("Hard", 0, "after"));
    ASSERT_TRUE(next.status);
    int64_t expected_next = expect == 0 ? puts[0].commit_log_offset.value()
                                        : puts[expect - 1].commit_log_offset.value() + puts[expect - 1].wrote_bytes;
    EXPECT_EQ(next.commit_log_offset.value(), std::max(expected_next, last_base)) << "cut at " << cut;
    store->stop();
  }
}

TEST(RecoveryHardeningTest, DeletedTopicDirAfterCleanStopIsRebuiltIdentically) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  write_and_stop(o, 200, "Keep");
  std::map<std::pair<int, int64_t>, int64_t> before_keep, before_gone;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    for (int i = 0; i < 120; ++i) ASSERT_TRUE(put_wait(*store, make_message("Gone", i % 4, body(i))).status);
    ASSERT_TRUE(store->wait_dispatched(5s));
    before_keep = units(*store, "Keep");
    before_gone = units(*store, "Gone");
    store->stop();
  }
  fs::remove_all(dir.path() + "/consumequeue/Gone");
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  EXPECT_EQ(units(*store, "Gone"), before_gone);
  EXPECT_EQ(units(*store, "Keep"), before_keep);
  EXPECT_EQ(put_wait(*store, make_message("Gone", 1, "next")).queue_offset.value(), 30);
  store->stop();
}

TEST(RecoveryHardeningTest, GarbledConsumeQueueCatalogAndCheckpointAreRebuilt) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  write_and_stop(o, 300);
  std::map<std::pair<int, int64_t>, int64_t> before;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    before = units(*store, "Hard");
    store->stop();
  }
  ASSERT_EQ(before.size(), 300u);
  // Garbage in the middle of queue 2's file: offsets go backwards.
  std::string cq = dir.path() + "/consumequeue/Hard/2/" + offset_to_file_name(0);
  {
    int fd = ::open(cq.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    std::string junk(60, '\x13');
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 20 * 20), 60);
    ::close(fd);
  }
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    EXPECT_EQ(units(*store, "Hard"), before);
    store->stop();
  }
  // Garbled catalog and checkpoint, queue 3 deleted.
  for (const char* f : {"/queues.catalog", "/checkpoint"}) {
    std::ofstream(dir.path() + f, std::ios::binary | std::ios::trunc)
        << "garbage-garbage-garbage-garbage-garbage-garbage";
  }
  fs::remove_all(dir.path() + "/consumequeue/Hard/3");
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  EXPECT_EQ(units(*store, "Hard"), before);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
