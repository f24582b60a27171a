// One key-index file (FORMAT.md §5): a hash table of "topic#key" -> chain of
// (commit-log offset, store time) entries, as RocketMQ's IndexFile, plus a CRC'd header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mapped_file.h"
#include "mq/status.h"

namespace mq::storage_mmap {

inline constexpr int64_t kIndexHeaderSize = 64;
inline constexpr int64_t kIndexSlotSize = 4;
inline constexpr int64_t kIndexEntrySize = 20;
inline constexpr uint32_t kIndexMagic = 0x4D514958;  // "MQIX"

// Java String.hashCode of `key`, made non-negative as RocketMQ's indexKeyHashMethod.
int32_t index_key_hash(std::string_view key);

// The same hash of "topic#key" without building the string: Java's hash runs left to right
// (h = 31h + c), so the topic's part is hashed once and each key continues from its state.
class IndexKeyHasher {
 public:
  // key(k) hashes prefix + k.
  explicit IndexKeyHasher(std::string_view prefix);
  int32_t key(std::string_view key) const;

 private:
  uint32_t prefix_;  // the prefix's hash state (unsigned, not folded)
};

// x % d for a fixed d > 0 by two multiplications (Lemire's fastmod: exact for every
// 32-bit x); the division it replaces was a tenth of IndexFile::put.
class SlotDivisor {
 public:
  explicit SlotDivisor(uint32_t d = 1) : d_(d), magic_(UINT64_MAX / d + 1) {}
  uint32_t mod(uint32_t x) const noexcept {
    return static_cast<uint32_t>((static_cast<unsigned __int128>(magic_ * x) * d_) >> 64);
  }

 private:
  uint64_t d_;
  uint64_t magic_;
};

// Threading: one writer (the dispatcher) calls put(); readers call lookup() concurrently;
// the caller (IndexService) serializes them with a reader/writer lock.
class IndexFile {
 public:
  static int64_t file_size(int32_t slots, int32_t entries) {
    return kIndexHeaderSize + int64_t{slots} * kIndexSlotSize + int64_t{entries} * kIndexEntrySize;
  }
  // Creates a new file at `path` (which must not exist) for records from `begin_offset`.
  static Result<std::unique_ptr<IndexFile>> create(const std::string& path, int32_t slots, int32_t entries);
  // Opens an existing file; an error when the header is not valid (magic, CRC, sizes).
  static Result<std::unique_ptr<IndexFile>> open(const std::string& path);

  bool full() const noexcept { return used_ >= entries_; }
  // Adds one entry (`key` is "topic#key"). Precondition: !full(). Its slot is written
  // through the mapping; the entry itself is staged and written with the others by
  // commit() (one pwrite for up to kMaxStagedBytes: entries are sequential, and a page
  // dirtied through the mapping costs a TLB-shootdown interrupt when its write-back
  // write-protects it). lookup() sees staged entries. The header in the file is not updated
  // (a CRC per entry cost more than the entry): write_header() does that before each msync,
  // after commit(), so a flushed header never counts entries that were not flushed. An
  // error (the staged entries could not be written) adds nothing.
  Status put(std::string_view key, int64_t commit_log_offset, int64_t store_timestamp_ms, int64_t record_end) {
    return put_hashed(index_key_hash(key), commit_log_offset, store_timestamp_ms, record_end);
  }
  // put() of a key whose index_key_hash is `hash`.
  Status put_hashed(int32_t hash, int64_t commit_log_offset, int64_t store_timestamp_ms, int64_t record_end);
  // Writes the staged entries into the file. On error they stay staged.
  Status commit();
  // Offsets of entries whose hash matches `key` and whose time is in [begin_ms, end_ms]
  // (second precision, widened by a second each way; callers verify the record), newest
  // first, appended to *out until it holds `max`.
  void lookup(std::string_view key, int64_t begin_ms, int64_t end_ms, size_t max, std::vector<int64_t>* out) const;

  int64_t begin_timestamp() const noexcept { return begin_ts_; }
  int64_t end_timestamp() const noexcept { return end_ts_; }
  int64_t begin_offset() const noexcept { return begin_off_; }
  int64_t end_offset() const noexcept { return end_off_; }  // end of the last indexed record
  int32_t used() const noexcept { return used_; }
  const std::string& path() const { return file_->path(); }
  // Writes the header (used count, times, offsets, CRC) into the mapping. Precondition:
  // nothing staged (commit() first).
  void write_header();
  // After a crash, slot pages may have reached the disk pointing at entries the header does
  // not count (added after the last flush): such a slot would hide its whole chain, flushed
  // entries included. When any slot points at or past used(), rebuilds every slot from the
  // counted entries. Returns whether it did. Before any put.
  bool repair_slots();
  std::shared_ptr<MappedFile> mapped() const { return file_; }
  Status unlink() const { return file_->unlink(); }

 private:
  explicit IndexFile(std::shared_ptr<MappedFile> f) : file_(std::move(f)) {}
  // Sets slots_ and its divisor.
  void set_slots(int32_t slots);
  // The slot of a non-negative hash: hash % slots_.
  int64_t slot_of(int32_t hash) const noexcept { return slot_divisor_.mod(static_cast<uint32_t>(hash)); }
  int64_t entry_offset(int32_t i) const noexcept {
    return kIndexHeaderSize + int64_t{slots_} * kIndexSlotSize + int64_t{i} * kIndexEntrySize;
  }
  // Entry i < used_: in the file below written_, else staged.
  const char* entry(int32_t i) const noexcept {
    return i < written_ ? file_->data() + entry_offset(i) : staged_.data() + int64_t{i - written_} * kIndexEntrySize;
  }
  static constexpr size_t kMaxStagedBytes = 64 * 1024;

  std::shared_ptr<MappedFile> file_;
  int32_t slots_ = 0;
  SlotDivisor slot_divisor_;  // of slots_
  int32_t entries_ = 0;
  int32_t used_ = 1;     // entry 0 is never used: a slot or prev value of 0 means "none"
  int32_t written_ = 1;  // entries below it are in the file; [written_, used_) in staged_
  std::string staged_;
  int64_t begin_ts_ = 0, end_ts_ = 0, begin_off_ = -1, end_off_ = 0;
};

}  // namespace mq::storage_mmap
