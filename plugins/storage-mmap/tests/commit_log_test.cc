// CommitLog: blank markers at segment ends, rolling over many small segments, scanning.
#include "commit_log.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "byte_order.h"
#include "fake_host.h"

namespace mq::storage_mmap {
namespace {

using testing::make_message;
using testing::TempDir;

int64_t append_one(CommitLog& log, const StoredMessage& m, AppendOutcome* outcome = nullptr,
                   DeferWrite defer = DeferWrite::kNo) {
  EncodedRecord rec;
  encode_record(m, HostAddress{0x7F000001, 1}, &rec);
  AppendItem item{&rec, m.topic, m.queue_id, true, {}};
  std::vector<AppendOutcome> out;
  Status st = log.append(std::span<AppendItem>(&item, 1), &out, defer);
  EXPECT_TRUE(st) << st.to_string();
  if (outcome && !out.empty()) *outcome = out.front();
  return out.empty() ? -1 : out.front().offset;
}

TEST(CommitLogTest, RollsOverManySmallSegmentsWithBlankMarkers) {
  TempDir dir;
  constexpr int64_t kSeg = 4096;
  CommitLog log(dir.path() + "/commitlog", kSeg);
  ASSERT_TRUE(log.load());
  std::vector<AppendOutcome> outs;
  for (int i = 0; i < 300; ++i) {
    AppendOutcome o;
    append_one(log, make_message("Roll", i % 3, std::string(100 + (i * 37) % 400, 'a' + i % 26)), &o);
    outs.push_back(o);
  }
  // Records never span segments; queue offsets count per queue.
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(outs[i].offset / kSeg, (outs[i].offset + outs[i].size - 1) / kSeg) << i;
    EXPECT_EQ(outs[i].queue_offset, static_cast<int64_t>(i / 3));
  }
  auto files = log.segments().files();
  ASSERT_GT(files.size(), 20u);
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i]->base(), static_cast<int64_t>(i) * kSeg);
    EXPECT_EQ(std::filesystem::path(files[i]->path()).filename().string(), offset_to_file_name(i * kSeg));
  }
  // Every full segment ends with a blank marker [remaining][BLANK_MAGIC] right after its last record.
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    int64_t last_end = 0;
    for (const auto& o : outs)
      if (o.offset / kSeg == static_cast<int64_t>(i)) last_end = o.offset + o.size;
    const char* p = files[i]->data() + (last_end - files[i]->base());
    EXPECT_EQ(get_be32(p + 4), kBlankMagic) << "segment " << i;
    EXPECT_EQ(static_cast<int64_t>(get_be32(p)), files[i]->end() - last_end);
  }
  ScanResult scan = log.scan(0, true);
  EXPECT_EQ(scan.records, 300u);
  EXPECT_EQ(scan.end, log.write_pos());
  EXPECT_TRUE(scan.stop_reason.empty());
  // Reads go through the blank markers to the right records.
  for (size_t i = 0; i < outs.size(); i += 17) {
    auto m = log.read(outs[i].offset);
    ASSERT_TRUE(m) << m.status().to_string();
    EXPECT_EQ(m->queue_offset.value(), outs[i].queue_offset);
  }
}

// Planned records (the put paths'): small ones are sealed (their CRC written) only after
// the next record, large ones as they are copied. Batches that mix both and roll over
// segments mid-call, written into the mapping, staged for one pwrite per segment, or
// deferred to the flush: every record's CRC must hold.
TEST(CommitLogTest, PlannedBatchesSealEveryRecordAcrossRollsInEveryWriteMode) {
  enum class Mode { kMapped, kStaged, kDeferred };
  for (Mode mode : {Mode::kMapped, Mode::kStaged, Mode::kDeferred}) {
    TempDir dir;
    constexpr int64_t kSeg = 8192;
    CommitLog log(dir.path() + "/commitlog", kSeg);
    ASSERT_TRUE(log.load());
    if (mode != Mode::kMapped) log.set_append_with_pwrite(true, 0);
    size_t appended = 0;
    for (int call = 0; call < 24; ++call) {
      std::vector<StoredMessage> msgs;
      for (int i = 0; i < 9; ++i) {
        // Sizes vary from call to call, so that segments end anywhere in a batch.
        const auto k = static_cast<size_t>(call * 9 + i);
        const size_t n = k % 3 == 0 ? 500 + (k * 131) % 900 : 20 + (k * 29) % 150;
        msgs.push_back(make_message("Seal", 1, std::string(n, static_cast<char>('a' + (call + i) % 26))));
      }
      std::vector<std::string> props(msgs.size());
      std::vector<RecordPlan> plans(msgs.size());
      std::vector<AppendItem> items;
      for (size_t i = 0; i < msgs.size(); ++i) {
        plan_record(msgs[i], HostAddress{0x7F000001, 1}, &props[i], &plans[i]);
        items.push_back(AppendItem{nullptr, msgs[i].topic, msgs[i].queue_id, true, {}, &plans[i]});
      }
      std::vector<AppendOutcome> out;
      ASSERT_TRUE(log.append(items, &out, mode == Mode::kDeferred ? DeferWrite::kToFlush : DeferWrite::kNo));
      appended += out.size();
    }
    ASSERT_TRUE(log.flush());
    ASSERT_GT(log.segments().files().size(), 4u);
    ScanResult scan = log.scan(0, /*verify_crc=*/true);
    EXPECT_EQ(scan.records, appended) << static_cast<int>(mode) << ": " << scan.stop_reason;
    EXPECT_TRUE(scan.stop_reason.empty()) << scan.stop_reason;
    EXPECT_EQ(scan.end, log.write_pos());
  }
}

TEST(CommitLogTest, RecordExactlyFillingASegmentLeavesRoomForTheBlank) {
  TempDir dir;
  constexpr int64_t kSeg = 4096;
  CommitLog log(dir.path() + "/commitlog", kSeg);
  ASSERT_TRUE(log.load());
  StoredMessage m = make_message("Fill", 0, "");
  auto base_size = validate_message(m, 1 << 20, log.max_record_size());
  ASSERT_TRUE(base_size);
  // The largest record a segment can take is segment - 8.
  m.body.assign(static_cast<size_t>(log.max_record_size() - *base_size), 'z');
  ASSERT_TRUE(validate_message(m, 1 << 20, log.max_record_size()));
  m.body.push_back('z');
  EXPECT_EQ(validate_message(m, 1 << 20, log.max_record_size()).status().code(), Code::kMessageIllegal);
  m.body.pop_back();
  EXPECT_EQ(append_one(log, make_message("Fill", 0, "small")), 0);
  EXPECT_EQ(append_one(log, m), kSeg);  // rolled: the big record starts a segment
  EXPECT_EQ(append_one(log, make_message("Fill", 0, "after")), 2 * kSeg);
  EXPECT_EQ(log.scan(0, true).records, 3u);
}

TEST(CommitLogTest, ReadOnlyRefusesAppendsWithTheReason) {
  TempDir dir;
  CommitLog log(dir.path() + "/commitlog", 4096);
  ASSERT_TRUE(log.load());
  log.set_read_only("msync of X failed: Input/output error");
  EncodedRecord rec;
  StoredMessage m = make_message("T", 0, "x");
  encode_record(m, HostAddress{}, &rec);
  AppendItem item{&rec, m.topic, 0, true, {}};
  std::vector<AppendOutcome> out;
  Status st = log.append(std::span<AppendItem>(&item, 1), &out);
  EXPECT_EQ(st.code(), Code::kServiceNotAvailable);
  EXPECT_NE(st.message().find("Input/output error"), std::string::npos);
  EXPECT_EQ(log.write_pos(), 0);
}

// appendWithPwrite's deferred appends: built under the put lock, written and published by
// the next flush, in log order; an append behind them defers too. 4 KiB segments.
class DeferredAppendTest : public ::testing::Test {
 protected:
  static constexpr int64_t kSeg = 4096;
  void SetUp() override {
    ASSERT_TRUE(log.load());
    log.set_append_with_pwrite(true, 0);
  }
  TempDir dir;
  CommitLog log{dir.path() + "/commitlog", kSeg};
};

TEST_F(DeferredAppendTest, WrittenAndPublishedInOrderByTheNextFlush) {
  std::vector<AppendOutcome> outs;
  for (int i = 0; i < 40; ++i) {
    AppendOutcome o;
    // Every third append (not the first) asks not to defer: it is behind deferred ones, so it
    // defers anyway.
    append_one(log, make_message("Defer", i % 2, std::string(200 + i * 13, 'a' + i % 26)), &o,
               i % 3 != 1 ? DeferWrite::kToFlush : DeferWrite::kNo);
    outs.push_back(o);
  }
  EXPECT_EQ(log.write_pos(), 0) << "deferred appends were published before a flush wrote them";
  EXPECT_EQ(log.appended_pos(), outs.back().offset + outs.back().size);
  ASSERT_GT(log.segments().files().size(), 3u);  // the pending bytes roll over segments
  EXPECT_EQ(log.segments().files()[0]->data()[0], 0) << "bytes reached the file before the flush";
  ASSERT_TRUE(log.flush());
  EXPECT_EQ(log.write_pos(), log.appended_pos());
  EXPECT_EQ(log.flushed_pos(), log.write_pos());
  ScanResult scan = log.scan(0, true);
  EXPECT_EQ(scan.records, 40u);
  EXPECT_EQ(scan.end, log.write_pos());
  for (size_t i = 0; i < outs.size(); ++i) {
    auto m = log.read(outs[i].offset);
    ASSERT_TRUE(m) << i << ": " << m.status().to_string();
    EXPECT_EQ(m->body, std::string(200 + i * 13, static_cast<char>('a' + i % 26)));
    EXPECT_EQ(m->queue_offset.value(), static_cast<int64_t>(i / 2));
  }
  // Nothing pending: an append that does not ask to defer is written and published at once.
  AppendOutcome now;
  append_one(log, make_message("Defer", 0, "now"), &now);
  EXPECT_EQ(log.write_pos(), now.offset + now.size);
}

TEST_F(DeferredAppendTest, FailingMidCallKeepsTheEarlierPendingBytes) {
  AppendOutcome first;
  append_one(log, make_message("Defer", 0, "first"), &first, DeferWrite::kToFlush);
  // One call: a small record (joins the pending bytes) and one no segment can hold.
  StoredMessage small = make_message("Defer", 0, "small");
  StoredMessage huge = make_message("Defer", 0, std::string(kSeg, 'h'));
  EncodedRecord a, b;
  encode_record(small, HostAddress{}, &a);
  encode_record(huge, HostAddress{}, &b);
  AppendItem items[] = {{&a, small.topic, 0, true, {}}, {&b, huge.topic, 0, true, {}}};
  std::vector<AppendOutcome> out;
  EXPECT_EQ(log.append(items, &out, DeferWrite::kToFlush).code(), Code::kMessageIllegal);
  EXPECT_EQ(log.appended_pos(), first.offset + first.size);
  AppendOutcome second;
  append_one(log, make_message("Defer", 0, "second"), &second, DeferWrite::kToFlush);
  EXPECT_EQ(second.offset, first.offset + first.size);
  EXPECT_EQ(second.queue_offset, 1);
  log.close();  // writes the pending appends
  EXPECT_EQ(log.write_pos(), second.offset + second.size);
  ScanResult scan = log.scan(0, true);
  EXPECT_EQ(scan.records, 2u);
  EXPECT_EQ(scan.end, log.write_pos());
  auto m = log.read(second.offset);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body, "second");
}

}  // namespace
}  // namespace mq::storage_mmap
