// IndexFile: header, hash slots and entry chains of one key-index file.
#include "index_file.h"

#include <sys/stat.h>

#include <cstring>

#include "byte_order.h"
#include "crc32c.h"

namespace mq::storage_mmap {

// Header layout (FORMAT.md §5).
namespace {
constexpr int kHMagic = 0, kHVersion = 4, kHBeginTs = 8, kHEndTs = 16, kHBeginOff = 24, kHEndOff = 32, kHSlots = 40,
              kHEntries = 44, kHUsed = 48, kHCrc = 52;
}  // namespace

namespace {

// Java String.hashCode for ASCII keys: h = 31h + c over the bytes, in unsigned (wrapping)
// arithmetic, from `h`. Four bytes per step (h·31⁴ + a·31³ + b·31² + c·31 + d) shorten the
// chain of dependent multiplies; the result is the same.
uint32_t java_hash_from(uint32_t h, std::string_view key) {
  constexpr uint32_t k1 = 31, k2 = k1 * k1, k3 = k2 * k1, k4 = k3 * k1;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  size_t n = key.size();
  for (; n >= 4; n -= 4, p += 4) h = h * k4 + p[0] * k3 + p[1] * k2 + p[2] * k1 + p[3];
  for (; n > 0; --n, ++p) h = h * k1 + *p;
  return h;
}

// RocketMQ's indexKeyHashMethod: the absolute value, Integer.MIN_VALUE as 0.
int32_t fold(uint32_t h) {
  int32_t v = static_cast<int32_t>(h);
  return v < 0 ? (v == INT32_MIN ? 0 : -v) : v;
}

}  // namespace

int32_t index_key_hash(std::string_view key) {
  return fold(java_hash_from(0, key));
}

IndexKeyHasher::IndexKeyHasher(std::string_view prefix) : prefix_(java_hash_from(0, prefix)) {}

int32_t IndexKeyHasher::key(std::string_view key) const {
  return fold(java_hash_from(prefix_, key));
}

void IndexFile::set_slots(int32_t slots) {
  slots_ = slots;
  slot_divisor_ = SlotDivisor(slots > 0 ? static_cast<uint32_t>(slots) : 1);  // open() refuses slots <= 0
}

Result<std::unique_ptr<IndexFile>> IndexFile::create(const std::string& path, int32_t slots, int32_t entries) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return Status::system("index file " + path + " already exists; remove it or the index directory");
  auto f = MappedFile::open(path, 0, file_size(slots, entries));
  if (!f) return f.status();
  (*f)->advise_no_readahead();  // see open()
  std::unique_ptr<IndexFile> out(new IndexFile(std::move(f).value()));
  out->set_slots(slots);
  out->entries_ = entries;
  out->write_header();
  // Durable now, not at the next index flush: after a crash a file with no valid header
  // would make the whole index (and the consume queues) be rebuilt from the first segment.
  if (Status st = out->file_->flush(0, kIndexHeaderSize); !st) return st;
  return out;
}

Result<std::unique_ptr<IndexFile>> IndexFile::open(const std::string& path) {
  auto f = MappedFile::open(path, 0, kIndexHeaderSize);
  if (!f) return f.status();
  const char* h = (*f)->data();
  auto bad = [&](const std::string& why) { return Status::system("index file " + path + " is not valid: " + why); };
  if ((*f)->size() < kIndexHeaderSize) return bad("shorter than its header");
  if (get_be32(h + kHMagic) != kIndexMagic || get_be32(h + kHVersion) != 1) return bad("bad magic or version");
  if (get_be32(h + kHCrc) != crc32c(h, kHCrc)) return bad("header CRC mismatch");
  // Slots and chains are read and written at random; sequential entries need no read-ahead
  // either, which would zero-fill pages of the (fallocated, unwritten) file long before they
  // are used (~4 % of a busy broker's CPU in page_cache_ra_order -> zero_user_segments).
  (*f)->advise_no_readahead();
  std::unique_ptr<IndexFile> out(new IndexFile(std::move(f).value()));
  out->set_slots(static_cast<int32_t>(get_be32(h + kHSlots)));
  out->entries_ = static_cast<int32_t>(get_be32(h + kHEntries));
  out->used_ = static_cast<int32_t>(get_be32(h + kHUsed));
  out->written_ = out->used_;
  out->begin_ts_ = static_cast<int64_t>(get_be64(h + kHBeginTs));
  out->end_ts_ = static_cast<int64_t>(get_be64(h + kHEndTs));
  out->begin_off_ = static_cast<int64_t>(get_be64(h + kHBeginOff));
  out->end_off_ = static_cast<int64_t>(get_be64(h + kHEndOff));
  if (out->slots_ <= 0 || out->entries_ <= 1 || out->used_ < 1 || out->used_ > out->entries_ ||
      out->file_->size() != file_size(out->slots_, out->entries_))
    return bad("sizes in the header do not match the file");
  return out;
}

bool IndexFile::repair_slots() {
  char* slots = file_->data() + kIndexHeaderSize;
  bool damaged = false;
  for (int32_t i = 0; i < slots_ && !damaged; ++i) {
    const auto v = static_cast<int32_t>(get_be32(slots + int64_t{i} * kIndexSlotSize));
    damaged = v < 0 || v >= used_;
  }
  if (!damaged) return false;
  // Entries below used_ were flushed with their chain links (each points below itself), so
  // the newest counted entry of each slot is all a slot needs.
  std::memset(slots, 0, static_cast<size_t>(int64_t{slots_} * kIndexSlotSize));
  const char* entries = slots + int64_t{slots_} * kIndexSlotSize;
  for (int32_t i = 1; i < used_; ++i) {
    const auto hash = static_cast<int32_t>(get_be32(entries + int64_t{i} * kIndexEntrySize));
    if (hash >= 0) put_be32(slots + slot_of(hash) * kIndexSlotSize, static_cast<uint32_t>(i));
  }
  return true;
}

void IndexFile::write_header() {
  char* h = file_->data();
  put_be32(h + kHMagic, kIndexMagic);
  put_be32(h + kHVersion, 1);
  put_be64(h + kHBeginTs, static_cast<uint64_t>(begin_ts_));
  put_be64(h + kHEndTs, static_cast<uint64_t>(end_ts_));
  put_be64(h + kHBeginOff, static_cast<uint64_t>(begin_off_));
  put_be64(h + kHEndOff, static_cast<uint64_t>(end_off_));
  put_be32(h + kHSlots, static_cast<uint32_t>(slots_));
  put_be32(h + kHEntries, static_cast<uint32_t>(entries_));
  put_be32(h + kHUsed, static_cast<uint32_t>(used_));
  put_be32(h + kHCrc, crc32c(h, kHCrc));
}

Status IndexFile::put_hashed(int32_t hash, int64_t commit_log_offset, int64_t store_timestamp_ms, int64_t record_end) {
  if (staged_.size() >= kMaxStagedBytes)
    if (Status st = commit(); !st) return st;
  char* slot = file_->data() + kIndexHeaderSize + slot_of(hash) * kIndexSlotSize;
  int32_t prev = static_cast<int32_t>(get_be32(slot));
  if (prev < 1 || prev >= used_) prev = 0;  // garbage: start a new chain
  if (begin_off_ < 0) {
    begin_off_ = commit_log_offset;
    begin_ts_ = store_timestamp_ms;
  }
  int64_t diff_s = (store_timestamp_ms - begin_ts_) / 1000;
  char e[kIndexEntrySize];
  put_be32(e, static_cast<uint32_t>(hash));
  put_be64(e + 4, static_cast<uint64_t>(commit_log_offset));
  put_be32(e + 12, static_cast<uint32_t>(diff_s < 0 ? 0 : diff_s > INT32_MAX ? INT32_MAX : diff_s));
  put_be32(e + 16, static_cast<uint32_t>(prev));
  staged_.append(e, sizeof e);
  put_be32(slot, static_cast<uint32_t>(used_));
  ++used_;
  if (store_timestamp_ms > end_ts_) end_ts_ = store_timestamp_ms;
  if (record_end > end_off_) end_off_ = record_end;
  return Status::ok();
}

Status IndexFile::commit() {
  if (staged_.empty()) return Status::ok();
  if (Status st = file_->write_at(entry_offset(written_), staged_.data(), staged_.size()); !st) return st;
  written_ = used_;
  staged_.clear();
  return Status::ok();
}

void IndexFile::lookup(std::string_view key, int64_t begin_ms, int64_t end_ms, size_t max,
                       std::vector<int64_t>* out) const {
  if (used_ <= 1 || end_ms < begin_ts_ - 1000 || begin_ms > end_ts_ + 1000) return;
  const int32_t hash = index_key_hash(key);
  int32_t i = static_cast<int32_t>(get_be32(file_->data() + kIndexHeaderSize + slot_of(hash) * kIndexSlotSize));
  // Chains go strictly backwards; anything else is damage and ends the walk.
  int32_t limit = used_;
  while (i >= 1 && i < limit && out->size() < max) {
    const char* e = entry(i);
    int64_t ts = begin_ts_ + int64_t{static_cast<int32_t>(get_be32(e + 12))} * 1000;
    if (static_cast<int32_t>(get_be32(e)) == hash && ts + 1000 >= begin_ms && ts - 1000 <= end_ms)
      out->push_back(static_cast<int64_t>(get_be64(e + 4)));
    limit = i;
    i = static_cast<int32_t>(get_be32(e + 16));
  }
}

}  // namespace mq::storage_mmap
