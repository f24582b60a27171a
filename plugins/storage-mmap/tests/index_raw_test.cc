// Key index (query by KEYS / UNIQ_KEY and time, rebuild when missing or garbled),
// message-id look-up and raw commit-log access for replication (read_raw / append_raw).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "byte_order.h"
#include "fake_host.h"
#include "index_file.h"
#include "mmap_store.h"
#include "record_codec.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::FailingPwrites;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

namespace fs = std::filesystem;

constexpr int64_t kAllTime = INT64_MAX / 2;

StoredMessage keyed(const std::string& topic, int i) {
  StoredMessage m = make_message(topic, i % 3, "body-" + std::to_string(i) + std::string(200, 'k'));
  m.set_property(prop::kKeys, "order-" + std::to_string(i % 10) + " all");
  m.set_property(prop::kUniqKey, "UNIQ" + std::to_string(i));
  return m;
}

std::set<std::string> bodies(const std::vector<StoredMessage>& ms) {
  std::set<std::string> out;
  for (const auto& m : ms) out.insert(m.body);
  return out;
}

std::set<std::string> expected_for(int key_mod, int n) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i)
    if (i % 10 == key_mod) out.insert("body-" + std::to_string(i) + std::string(200, 'k'));
  return out;
}

// What IndexService::flush does to the newest file.
Status flush_index_file(IndexFile& file) {
  if (Status st = file.commit(); !st) return st;
  file.write_header();
  return file.mapped()->flush(0, file.mapped()->size());
}

TEST(IndexTest, KeyHashIsJavaStringHashCodeMadeNonNegative) {
  // Values of Java's String.hashCode, whatever the length's remainder by four.
  EXPECT_EQ(index_key_hash(""), 0);
  EXPECT_EQ(index_key_hash("a"), 97);
  EXPECT_EQ(index_key_hash("hello"), 99162322);
  EXPECT_EQ(index_key_hash("TopicTest#C0A8010A12C418B4AAC2164A0F590000"), 270778274);  // -270778274 in Java
  EXPECT_EQ(index_key_hash("BenchTopic#abcdefghijklmnopqrstuvwxyz0123456789"), 183345270);
  EXPECT_EQ(index_key_hash("polygenelubricants"), 0);  // Integer.MIN_VALUE
  EXPECT_EQ(index_key_hash("abcd"), 2987074);
  EXPECT_EQ(index_key_hash("abcdefgh"), 1259673732);
}

TEST(IndexTest, KeyHasherEqualsTheHashOfTheJoinedKey) {
  std::mt19937 rng(7);
  auto random_text = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);  // high bytes too
    return s;
  };
  EXPECT_EQ(IndexKeyHasher("TopicTest#").key("C0A8010A12C418B4AAC2164A0F590000"), 270778274);
  EXPECT_EQ(IndexKeyHasher("").key("polygenelubricants"), 0);
  EXPECT_EQ(IndexKeyHasher("polygenelubricants").key(""), 0);
  for (int i = 0; i < 2000; ++i) {
    const std::string prefix = random_text(rng() % 40), key = random_text(rng() % 100);
    ASSERT_EQ(IndexKeyHasher(prefix).key(key), index_key_hash(prefix + key))
        << "prefix " << prefix.size() << " key " << key.size();
  }
}

// FORMAT.md §5: an entry's slot is hash % slots. Checked in the file's bytes for hashes
// around every boundary and at random, with slot counts from 1 to INT32_MAX.
TEST(IndexTest, EntrySlotIsTheHashModuloTheSlotCount) {
  TempDir dir;
  std::mt19937 rng(11);
  int n = 0;
  for (int32_t slots : {1, 2, 3, 7, 64, 1000, 4093, 65536}) {
    auto file = IndexFile::create(dir.path() + "/" + std::to_string(n++), slots, 400);
    ASSERT_TRUE(file) << file.status().to_string();
    std::vector<int32_t> hashes = {0, 1, slots - 1, slots, slots + 1, INT32_MAX, INT32_MAX - 1, INT32_MAX - slots};
    while (hashes.size() < 399) hashes.push_back(static_cast<int32_t>(rng() & 0x7FFFFFFF));
    for (int32_t h : hashes) {
      if (h < 0) continue;
      ASSERT_TRUE((*file)->put_hashed(h, 100, 1700000000000, 190));
      const char* slot = (*file)->mapped()->data() + kIndexHeaderSize + int64_t{h % slots} * kIndexSlotSize;
      ASSERT_EQ(static_cast<int32_t>(get_be32(slot)), (*file)->used() - 1) << "hash " << h << " slots " << slots;
    }
  }
  // The largest slot counts through the divisor alone (the files would be gigabytes).
  for (uint32_t slots : {0x7FFFFFFFu, 0x7FFFFFFEu, 5000000u, 4999999u, 1u}) {
    const SlotDivisor divisor(slots);
    for (uint32_t h : {0u, slots - 1, slots, 0x7FFFFFFFu, 0xFFFFFFFFu}) ASSERT_EQ(divisor.mod(h), h % slots) << h;
    for (int i = 0; i < 100000; ++i) {
      const uint32_t h = static_cast<uint32_t>(rng());
      ASSERT_EQ(divisor.mod(h), h % slots) << "hash " << h << " slots " << slots;
    }
  }
}

// Entries are staged and written together: lookups see them at once, the file holds them
// once committed (by the flush, or when the stage fills), a failed write adds nothing.
TEST(IndexTest, StagedEntriesAreFoundAndWrittenWhenCommittedOrWhenTheStageFills) {
  TempDir dir;
  const std::string path = dir.path() + "/00000000000000000000";
  constexpr int32_t kSlots = 64;
  constexpr int kKeys = 4000;  // more than one stage of 64 KiB (3,276 entries)
  auto file = IndexFile::create(path, kSlots, kKeys + 1);
  ASSERT_TRUE(file);
  auto entry_on_disk = [&](int32_t i) {
    char e[kIndexEntrySize] = {};
    const int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, e, sizeof e, kIndexHeaderSize + kSlots * kIndexSlotSize + int64_t{i} * kIndexEntrySize),
              static_cast<ssize_t>(sizeof e));
    ::close(fd);
    return static_cast<int64_t>(get_be64(e + 4));  // its commit-log offset
  };
  ASSERT_TRUE((*file)->put("T#first", 4242, 1700000000000, 4300));
  std::vector<int64_t> found;
  (*file)->lookup("T#first", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{4242});  // staged, found
  EXPECT_EQ(entry_on_disk(1), 0);                // not in the file yet
  for (int i = 1; i < kKeys; ++i)
    ASSERT_TRUE((*file)->put("T#k" + std::to_string(i % 50), 10000 + i, 1700000000000, 10090 + i));
  EXPECT_EQ(entry_on_disk(1), 4242);  // the full stage was written
  found.clear();
  (*file)->lookup("T#k7", 0, kAllTime, 1000, &found);
  EXPECT_EQ(found.size(), static_cast<size_t>(kKeys / 50));  // chains across written and staged entries
  EXPECT_EQ(found.front(), 10000 + 3957);                    // newest first
  EXPECT_EQ(entry_on_disk(kKeys), 0);

  // A failed write keeps the stage; the put that needed it adds nothing.
  {
    const int32_t used = (*file)->used();
    FailingPwrites failing;
    EXPECT_FALSE((*file)->commit());
    EXPECT_EQ((*file)->used(), used);
  }
  ASSERT_TRUE(flush_index_file(**file));
  EXPECT_EQ(entry_on_disk(kKeys), 10000 + kKeys - 1);
  auto seen = IndexFile::open(path);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)->used(), kKeys + 1);
  found.clear();
  (*seen)->lookup("T#first", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{4242});
}

TEST(IndexTest, AFullStageThatCannotBeWrittenRefusesThePut) {
  TempDir dir;
  auto file = IndexFile::create(dir.path() + "/00000000000000000000", 64, 8000);
  ASSERT_TRUE(file);
  // 3,277 entries of 20 bytes fill the 64 KiB stage: the next put must write it first.
  for (int i = 0; i < 3277; ++i) ASSERT_TRUE((*file)->put("T#k" + std::to_string(i), i, 1700000000000, i + 1));
  Status st = Status::ok();
  {
    FailingPwrites failing;
    st = (*file)->put("T#one-too-many", 99999, 1700000000000, 100000);
  }
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("00000000000000000000"), std::string::npos) << st.message();  // names the file
  EXPECT_EQ((*file)->used(), 3278);
  std::vector<int64_t> found;
  (*file)->lookup("T#one-too-many", 0, kAllTime, 10, &found);
  EXPECT_TRUE(found.empty());
  ASSERT_TRUE((*file)->put("T#one-too-many", 99999, 1700000000000, 100000));  // the retry writes the stage
  (*file)->lookup("T#one-too-many", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{99999});
}

TEST(IndexTest, HeaderIsWrittenByFlushNotByEachPut) {
  TempDir dir;
  const std::string path = dir.path() + "/00000000000000000000";
  auto file = IndexFile::create(path, 64, 16);
  ASSERT_TRUE(file) << file.status().to_string();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*file)->put("T#k" + std::to_string(i), 100 * i, 1700000000000 + i, 100 * i + 90));
  auto seen = IndexFile::open(path);  // what a restart after a crash would find
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)->used(), 1);  // the header as created: the entries are re-indexed
  ASSERT_TRUE(flush_index_file(**file));
  seen = IndexFile::open(path);
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)->used(), 4);
  EXPECT_EQ((*seen)->end_offset(), 290);
  std::vector<int64_t> found;
  (*seen)->lookup("T#k2", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{200});
}

TEST(IndexTest, SlotsWrittenBackAfterTheLastFlushAreRepairedOnOpen) {
  TempDir dir;
  const std::string path = dir.path() + "/00000000000000000000";
  auto file = IndexFile::create(path, 64, 16);
  ASSERT_TRUE(file);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*file)->put("T#k" + std::to_string(i), 100 * i, 1700000000000, 100 * i + 90));
  ASSERT_TRUE(flush_index_file(**file));  // entries 1-3 counted on disk
  // A key added after the flush: its slot (on a page the kernel may write back at any
  // time) now points at entry 4, which the flushed header does not count.
  ASSERT_TRUE((*file)->put("T#k0", 300, 1700000000000, 390));
  auto seen = IndexFile::open(path);  // what a restart after a crash finds
  ASSERT_TRUE(seen);
  ASSERT_EQ((*seen)->used(), 4);
  std::vector<int64_t> found;
  (*seen)->lookup("T#k0", 0, kAllTime, 10, &found);
  EXPECT_TRUE(found.empty());  // the slot hides the flushed entry
  EXPECT_TRUE((*seen)->repair_slots());
  (*seen)->lookup("T#k0", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{0});
  found.clear();
  (*seen)->lookup("T#k2", 0, kAllTime, 10, &found);
  EXPECT_EQ(found, std::vector<int64_t>{200});
  EXPECT_FALSE((*seen)->repair_slots());  // nothing left to repair
}

TEST(IndexTest, QueryByKeysUniqKeyAndTimeRange) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 300; ++i) puts.push_back(put_wait(*store, keyed("IdxTopic", i)));
  (void)put_wait(*store, keyed("OtherTopic", 3));  // same key, other topic: never returned
  ASSERT_TRUE(store->wait_dispatched(5s));

  auto r = store->query_by_key("IdxTopic", "order-3", 1000, 0, kAllTime);
  EXPECT_EQ(bodies(r), expected_for(3, 300));
  for (const auto& m : r) EXPECT_EQ(m.topic, "IdxTopic");
  EXPECT_EQ(store->query_by_key("IdxTopic", "order-3", 1000, 0, -1).size(), r.size());  // end < 0: unbounded
  // Newest first, limited by max.
  auto two = store->query_by_key("IdxTopic", "order-3", 2, 0, kAllTime);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two.at(0).body, "body-293" + std::string(200, 'k'));
  EXPECT_EQ(two.at(1).body, "body-283" + std::string(200, 'k'));
  // A second key of the same message, and the unique key.
  auto all = store->query_by_key("IdxTopic", "all", 1000, 0, kAllTime);
  EXPECT_EQ(all.size(), 300u);
  auto uniq = store->query_by_key("IdxTopic", "UNIQ42", 10, 0, kAllTime);
  ASSERT_EQ(uniq.size(), 1u);
  EXPECT_EQ(uniq.front().commit_log_offset, puts[42].commit_log_offset);
  // Time range: nothing before the first store time, everything within.
  EXPECT_TRUE(store->query_by_key("IdxTopic", "order-3", 10, 0, puts.front().store_timestamp_ms - 1).empty());
  auto within = store->query_by_key("IdxTopic", "UNIQ7", 10, puts[7].store_timestamp_ms, puts[7].store_timestamp_ms);
  EXPECT_EQ(within.size(), 1u);
  EXPECT_TRUE(store->query_by_key("IdxTopic", "nope", 10, 0, kAllTime).empty());
  store->stop();
}

TEST(IndexTest, RollsOverFilesAndIsRebuiltWhenMissingOrGarbled) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.max_index_num = 100;  // ~33 messages per index file
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(put_wait(*store, keyed("Rebuild", i)).status);
    ASSERT_TRUE(store->wait_dispatched(5s));
    auto r = store->query_by_key("Rebuild", "order-5", 1000, 0, kAllTime);
    EXPECT_EQ(bodies(r), expected_for(5, 200));
    store->stop();
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/index")) files += e.is_regular_file();
  EXPECT_GE(files, 5u);

  // Deleted index: rebuilt on a clean start.
  fs::remove_all(dir.path() + "/index");
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    auto r = store->query_by_key("Rebuild", "order-5", 1000, 0, kAllTime);
    EXPECT_EQ(bodies(r), expected_for(5, 200));
    store->stop();
  }
  // Garbled header of one index file: the whole index is rebuilt, nothing is lost or doubled.
  std::string first;
  for (const auto& e : fs::directory_iterator(dir.path() + "/index"))
    if (first.empty() || e.path().string() < first) first = e.path().string();
  {
    int fd = ::open(first.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char junk[16];
    std::memset(junk, 0x77, sizeof(junk));
    ASSERT_EQ(::pwrite(fd, junk, sizeof(junk), 8), 16);
    ::close(fd);
  }
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  auto r = store->query_by_key("Rebuild", "order-5", 1000, 0, kAllTime);
  EXPECT_EQ(r.size(), expected_for(5, 200).size());
  EXPECT_EQ(bodies(r), expected_for(5, 200));
  store->stop();
}

TEST(IndexTest, MessageIdLookup) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  PutResult p = put_wait(*store, keyed("Ids", 1));
  ASSERT_TRUE(p.status);
  MessageStore& api = *store;
  auto m = api.read_by_msg_id(p.offset_msg_id);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->commit_log_offset, p.commit_log_offset);
  EXPECT_EQ(m->body, keyed("Ids", 1).body);
  EXPECT_EQ(api.read_by_msg_id("not-an-id").status().code(), Code::kInvalidParameter);
  store->stop();
}

// Copies the master's log to the slave with read_raw / append_raw until caught up.
int64_t replicate(MmapStore& master, MmapStore& slave, int32_t chunk) {
  int64_t from = slave.stats().max_commit_log_offset.value();
  int rounds = 0;
  while (from < master.stats().max_commit_log_offset.value()) {
    auto c = master.read_raw(CommitLogOffset(from), chunk);
    EXPECT_TRUE(c) << c.status().to_string();
    if (!c) break;
    if (c->bytes.empty()) break;
    auto end = slave.append_raw(CommitLogOffset(from), c->bytes);
    EXPECT_TRUE(end) << end.status().to_string();
    if (!end) break;
    EXPECT_EQ(end->value(), c->next_offset.value());
    from = c->next_offset.value();
    ++rounds;
  }
  return rounds;
}

TEST(RawTest, ReadRawAppendRawReplicatesTheLogAcrossSegments) {
  TempDir mdir, sdir;
  auto master = make_store(small_options(mdir.path()));
  auto slave = make_store(small_options(sdir.path()));
  ASSERT_TRUE(master->start());
  ASSERT_TRUE(slave->start());
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(put_wait(*master, keyed("Repl", i)).status);  // ~7 segments
  EXPECT_GT(replicate(*master, *slave, 3000), 7);
  ASSERT_TRUE(slave->wait_dispatched(5s));
  ASSERT_TRUE(master->wait_dispatched(5s));
  EXPECT_EQ(slave->stats().max_commit_log_offset, master->stats().max_commit_log_offset);
  for (int q = 0; q < 3; ++q) {
    EXPECT_EQ(slave->max_offset("Repl", q), master->max_offset("Repl", q));
    GetResult a = get_all(*master, "Repl", q, 0, 1000);
    GetResult b = get_all(*slave, "Repl", q, 0, 1000);
    ASSERT_EQ(a.messages.size(), b.messages.size());
    for (size_t i = 0; i < a.messages.size(); ++i) {
      EXPECT_EQ(a.messages[i].body, b.messages[i].body);
      EXPECT_EQ(a.messages[i].commit_log_offset, b.messages[i].commit_log_offset);
    }
  }
  EXPECT_EQ(slave->query_by_key("Repl", "UNIQ17", 5, 0, kAllTime).size(), 1u);
  // The slave's own queue offsets continue after the replicated ones.
  PutResult next = put_wait(*slave, keyed("Repl", 400));
  ASSERT_TRUE(next.status);
  EXPECT_EQ(next.queue_offset, master->max_offset("Repl", 400 % 3));

  // Refusals: wrong position, damaged bytes, a partial record. Nothing is appended.
  const int64_t end = slave->stats().max_commit_log_offset.value();
  const CommitLogOffset master_end = master->stats().max_commit_log_offset;
  ASSERT_TRUE(put_wait(*master, keyed("Repl", 401)).status);
  auto c = master->read_raw(master_end, 1);
  ASSERT_TRUE(c);
  ASSERT_FALSE(c->bytes.empty());
  EXPECT_EQ(slave->append_raw(CommitLogOffset(end + 1), c->bytes).status().code(), Code::kInvalidParameter);
  std::string flipped = c->bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  EXPECT_EQ(slave->append_raw(CommitLogOffset(end), flipped).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(slave->append_raw(CommitLogOffset(end), c->bytes.substr(0, c->bytes.size() - 1)).status().code(),
            Code::kInvalidParameter);
  // The master's record carries the master's PHYSICALOFFSET: wrong at the slave's end.
  EXPECT_EQ(slave->append_raw(CommitLogOffset(end), c->bytes).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(slave->stats().max_commit_log_offset.value(), end);
  master->stop();
  slave->stop();
}

// Replicated bytes can carry a valid CRC over malformed properties (a broken or hostile
// master): refused whole, since decoding them would lose tags, keys and ids after the bad entry.
TEST(RawTest, AppendRawRefusesMalformedPropertiesEvenWithAValidCrc) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  const int64_t end = store->stats().max_commit_log_offset.value();
  EncodedRecord rec;
  encode_record(make_message("RawProps", 0, "body", "TagA"), HostAddress{0x7F000001, 10911}, &rec);
  finalize_record(rec.bytes.data(), rec.tail_crc, rec.tail_shift, 0, end, 1700000000000);
  std::string bad = rec.bytes;
  bad[bad.rfind(kPropertyNameEnd)] = '=';  // the last entry loses its name/value separator
  const auto size = static_cast<int32_t>(bad.size());
  put_be32(bad.data() + pos::kCrc, record_crc(bad.data(), size));
  auto refused = store->append_raw(CommitLogOffset(end), bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Code::kInvalidParameter);
  EXPECT_NE(refused.status().message().find("malformed properties"), std::string::npos) << refused.status().message();
  EXPECT_EQ(store->stats().max_commit_log_offset.value(), end);
  auto accepted = store->append_raw(CommitLogOffset(end), rec.bytes);
  ASSERT_TRUE(accepted) << accepted.status().to_string();
  EXPECT_EQ(accepted->value(), end + size);
  store->stop();
}

TEST(RawTest, ReadRawReturnsWholeRecordsAndStepsOverBlankMarkers) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 300; ++i) puts.push_back(put_wait(*store, keyed("RawRead", i)));  // > 1 segment
  // max_bytes smaller than one record still returns exactly one record.
  auto one = store->read_raw(puts[5].commit_log_offset, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ(static_cast<int32_t>(one->bytes.size()), puts[5].wrote_bytes);
  EXPECT_EQ(one->next_offset, puts[6].commit_log_offset);
  // Reading to a segment end returns the blank marker and points at the next segment.
  int64_t seg = small_options(dir.path()).commit_log_segment_size;
  auto tail = store->read_raw(puts[0].commit_log_offset, 1 << 30);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->next_offset.value(), seg);
  EXPECT_LE(static_cast<int64_t>(tail->bytes.size()), seg);
  // At the end: nothing yet.
  auto none = store->read_raw(store->stats().max_commit_log_offset, 100);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->bytes.empty());
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
