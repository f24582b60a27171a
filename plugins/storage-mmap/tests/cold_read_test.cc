// Reads below the commit log's page-cache window (commitLogPageCacheMiB) served by the cold
// reader (commitLogColdReadMiB): the exact records from direct reads, records spanning two
// chunks, filters, concurrent readers, and a truncation of the log never serving bytes read
// before it.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fake_host.h"
#include "mmap_store.h"
#include "mq/message_record.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::resident_pages;
using testing::small_options;
using testing::TagFilter;
using testing::TempDir;

constexpr int kQueues = 4;
const int64_t kChunk = ColdLogReader::Options{}.chunk_bytes;
// Messages (~1.1 KiB each) filling about 3.3 segments of two chunks.
const int kCount = static_cast<int>(6 * kChunk / 1024 / 1024) * 1000;

// commitLogColdReadMiB for `chunks` chunks.
int64_t cache_mib(int chunks) {
  return chunks * kChunk >> 20;
}

std::string body_of(const std::string& prefix, int i) {
  std::string body = prefix + std::to_string(i) + "-";
  body.append(static_cast<size_t>(900 + i * 37 % 300), static_cast<char>('a' + i % 26));
  return body;
}

// Segments of two chunks (so records cross a chunk boundary inside a segment), the newest
// 1 MiB cached, a cold cache of 2 chunks.
StoreOptions cold_options(const std::string& root) {
  StoreOptions o = small_options(root);
  o.commit_log_segment_size = 2 * kChunk;
  o.commit_log_cache_mib = 1;
  o.commit_log_cold_read_mib = cache_mib(2);
  o.flush_least_pages = 0;  // every flush interval flushes up to the end
  return o;
}

// Puts `count` messages (tags alternate TagA / TagB) round-robin on kQueues queues.
std::vector<PutResult> fill(MmapStore& store, const std::string& prefix, int count) {
  std::vector<PutResult> puts;
  for (int i = 0; i < count; ++i) {
    PutResult r = put_wait(store, make_message("Cold", i % kQueues, body_of(prefix, i), i % 2 ? "TagB" : "TagA"));
    EXPECT_TRUE(r.status) << r.status.to_string();
    puts.push_back(r);
  }
  return puts;
}

// Waits until the page cache was dropped below `end` - 1 MiB (in the allocator's steps).
int64_t wait_dropped(MmapStore& store, int64_t end) {
  const int64_t expect_below = (end - (1 << 20)) / (256 << 10) * (256 << 10);
  for (int i = 0; i < 500 && store.cache_dropped_to() < expect_below; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE(store.cache_dropped_to(), expect_below);
  return store.cache_dropped_to();
}

struct Pulled {
  std::string bytes;  // the record as get_records returned it
  int64_t commit_log_offset = 0;
  std::string body;
  std::string tags;
};

// Every record of `queue` from `from` via get_records, `batch` at a time.
std::vector<Pulled> pull_all(MmapStore& store, int queue, int64_t from, int32_t batch,
                             const MessageFilter* filter = nullptr) {
  std::vector<Pulled> out;
  GetRequest req;
  req.topic = "Cold";
  req.queue_id = queue;
  req.max_count = batch;
  req.max_bytes = 1 << 30;
  req.filter = filter;
  int64_t next = from;
  while (true) {
    req.offset = QueueOffset(next);
    GetRecordsResult r;
    EXPECT_TRUE(store.get_records(req, &r));
    if (r.get.status != GetStatus::kFound && r.get.status != GetStatus::kNoMatchedMessage) break;
    std::string_view rest = r.records;
    for (int32_t i = 0; i < r.record_count; ++i) {
      record::RecordView v;
      EXPECT_EQ(record::parse_record(rest, &v), "");
      StoredMessage props;
      EXPECT_EQ(decode_encoded_properties(v.properties, &props), "");
      out.push_back(Pulled{std::string(rest.substr(0, static_cast<size_t>(v.size))), v.commit_log_offset,
                           std::string(v.body), std::string(props.tags())});
      rest.remove_prefix(static_cast<size_t>(v.size));
    }
    if (next == r.get.next_begin_offset.value()) break;
    next = r.get.next_begin_offset.value();
  }
  return out;
}

TEST(ColdReadTest, RecordsBelowTheWindowComeFromDirectReadsByteForByte) {
  TempDir dir;
  StoreOptions o = cold_options(dir.path());
  o.commit_log_cold_read_mib = cache_mib(8);  // three readers pin up to two chunks each, one more loads
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  const std::vector<PutResult> puts = fill(*store, "m", kCount);
  const int64_t end = puts.back().commit_log_offset.value() + puts.back().wrote_bytes;
  ASSERT_TRUE(store->wait_dispatched(5s));
  // Chunks wholly below the window are read cold; records in the one it cuts through are
  // read through the mapping.
  const int64_t cold_below = wait_dropped(*store, end) / kChunk * kChunk;
  ASSERT_GE(cold_below, 4 * kChunk);  // two segments

  int64_t cold_bytes = 0;
  int spanning = 0;  // records below the window crossing a chunk boundary inside a segment
  for (const PutResult& p : puts) {
    const int64_t at = p.commit_log_offset.value();
    if (at + p.wrote_bytes > cold_below) continue;
    cold_bytes += p.wrote_bytes;
    if (at / kChunk != (at + p.wrote_bytes - 1) / kChunk) ++spanning;
  }
  ASSERT_GT(spanning, 0) << "no record crosses a chunk boundary: the test does not cover joining";

  // Three readers at once, each reading every queue from the start in its own batch size.
  const std::vector<int32_t> batches = {7, 32, 256};
  std::vector<std::vector<std::vector<Pulled>>> got(batches.size());  // [reader][queue]
  std::vector<std::thread> readers;
  for (size_t r = 0; r < batches.size(); ++r) {
    readers.emplace_back([&, r] {
      for (int q = 0; q < kQueues; ++q) got[r].push_back(pull_all(*store, q, 0, batches[r]));
    });
  }
  for (auto& t : readers) t.join();

  const ColdLogReader::Stats s = store->cold_read_stats();
  EXPECT_GT(s.chunks_read, 0u);
  EXPECT_GT(s.chunks_read_ahead, 0u);
  EXPECT_EQ(s.fell_back, 0u);
  // Every record below the window was served by the cold reader, once per reader ...
  EXPECT_EQ(s.bytes_served, static_cast<uint64_t>(batches.size()) * static_cast<uint64_t>(cold_bytes));
  // ... and none of it went back into the page cache.
  for (int64_t seg : {int64_t{0}, 2 * kChunk}) {
    const std::string path = dir.path() + "/commitlog/" + offset_to_file_name(seg);
    EXPECT_EQ(resident_pages(path, 0, static_cast<size_t>(2 * kChunk)), 0u) << path;
  }

  // Every record is the one put, byte for byte the bytes the mapping shows.
  for (size_t r = 0; r < batches.size(); ++r) {
    for (int q = 0; q < kQueues; ++q) {
      const std::vector<Pulled>& records = got[r][static_cast<size_t>(q)];
      ASSERT_EQ(records.size(), static_cast<size_t>(kCount / kQueues)) << "batch " << batches[r] << " queue " << q;
      for (size_t k = 0; k < records.size(); ++k) {
        ASSERT_EQ(records[k].body, body_of("m", static_cast<int>(k) * kQueues + q)) << k;
        auto mapped = store->commit_log().locate_record(records[k].commit_log_offset);
        ASSERT_TRUE(mapped) << mapped.status().to_string();
        ASSERT_EQ(records[k].bytes, std::string_view(mapped->data, static_cast<size_t>(mapped->record_size))) << k;
      }
    }
  }
  store->stop();
}

TEST(ColdReadTest, FiltersSeeTheSameRecordsAsThroughTheMapping) {
  TempDir dir;
  StoreOptions o = cold_options(dir.path());
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  const std::vector<PutResult> puts = fill(*store, "f", kCount);
  ASSERT_TRUE(store->wait_dispatched(5s));
  wait_dropped(*store, puts.back().commit_log_offset.value() + puts.back().wrote_bytes);
  TagFilter b("TagB");
  std::vector<Pulled> cold = pull_all(*store, 1, 0, 64, &b);  // queue 1 holds the odd messages: all TagB
  std::vector<Pulled> none = pull_all(*store, 2, 0, 64, &b);  // queue 2 only TagA
  EXPECT_EQ(cold.size(), static_cast<size_t>(kCount / kQueues));
  EXPECT_TRUE(none.empty());
  for (const Pulled& p : cold) EXPECT_EQ(p.tags, "TagB");
  EXPECT_GT(store->cold_read_stats().bytes_served, 0u);
  store->stop();

  // The same pulls through the mapping (cold reads off) answer the same records.
  o.commit_log_cold_read_mib = 0;
  auto mapped = make_store(o);
  ASSERT_TRUE(mapped->start());
  std::vector<Pulled> warm = pull_all(*mapped, 1, 0, 64, &b);
  ASSERT_EQ(warm.size(), cold.size());
  for (size_t k = 0; k < warm.size(); ++k) EXPECT_EQ(warm[k].bytes, cold[k].bytes) << k;
  EXPECT_EQ(mapped->cold_read_stats().bytes_served, 0u);
  mapped->stop();
}

// Chunks read before a truncation hold the old bytes of offsets the log then writes again:
// they are never served for the new records.
TEST(ColdReadTest, ATruncationNeverServesChunksReadBeforeIt) {
  TempDir dir;
  StoreOptions o = cold_options(dir.path());
  o.commit_log_cold_read_mib = cache_mib(16);  // room to keep every chunk read before the truncation
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  const std::vector<PutResult> old = fill(*store, "old", kCount);
  ASSERT_TRUE(store->wait_dispatched(5s));
  wait_dropped(*store, old.back().commit_log_offset.value() + old.back().wrote_bytes);
  ASSERT_EQ(pull_all(*store, 0, 0, 256).size(), static_cast<size_t>(kCount / kQueues));  // caches the cold chunks
  const uint64_t read_before = store->cold_read_stats().chunks_read;

  const CommitLogOffset cut = old[1000].commit_log_offset;  // queue 0, queue offset 250
  auto t = store->truncate_to(cut);
  ASSERT_TRUE(t) << t.status().to_string();
  const std::vector<PutResult> fresh = fill(*store, "new", kCount);
  ASSERT_TRUE(store->wait_dispatched(5s));
  wait_dropped(*store, fresh.back().commit_log_offset.value() + fresh.back().wrote_bytes);

  std::vector<Pulled> got = pull_all(*store, 0, 0, 256);
  ASSERT_EQ(got.size(), 250u + static_cast<size_t>(kCount / kQueues));
  for (size_t k = 0; k < 250; ++k) EXPECT_EQ(got[k].body, body_of("old", static_cast<int>(k) * kQueues)) << k;
  for (size_t k = 250; k < got.size(); ++k)
    EXPECT_EQ(got[k].body, body_of("new", static_cast<int>(k - 250) * kQueues)) << k;
  EXPECT_GT(store->cold_read_stats().chunks_read, read_before);  // read again, not reused
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
