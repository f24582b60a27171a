// Dispatch notes: what the appending thread knows about each record it appends (offsets,
// queue, tag hash, keys), handed to the dispatcher so that it need not read the records back
// through the mapping. A note is an optimization only: records without one (recovery,
// replication, notes dropped while the dispatcher lags) are parsed from the log.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "adaptive_mutex.h"
#include "record_codec.h"

namespace mq::storage_mmap {

// Notes of consecutive records, in log order, with their text (topic, keys, unique key).
class DispatchNoteBatch {
 public:
  void add(int64_t offset, int32_t size, const RecordPlan& plan, QueueId queue_id, int64_t queue_offset,
           int64_t store_timestamp_ms);
  size_t size() const noexcept { return notes_.size(); }
  bool empty() const noexcept { return notes_.empty(); }
  size_t text_bytes() const noexcept { return text_.size(); }
  int64_t offset(size_t i) const noexcept { return notes_[i].offset; }
  int32_t record_size(size_t i) const noexcept { return notes_[i].size; }
  // What parsing the record would give (views into this batch: valid until it changes).
  RecordSummary summary(size_t i) const;
  // Keeps the capacity.
  void clear() noexcept {
    notes_.clear();
    text_.clear();
  }
  void append(const DispatchNoteBatch& other);
  void swap(DispatchNoteBatch& other) noexcept {
    notes_.swap(other.notes_);
    text_.swap(other.text_);
  }

 private:
  struct Note {
    int64_t offset;
    int64_t queue_offset;
    int64_t store_timestamp_ms;
    int64_t tag_hash;
    int32_t size;
    QueueId queue_id;
    int32_t sys_flag;
    uint32_t topic_at;  // the topic in text_ (shared with the previous note when the same)
    uint32_t text_at;   // keys, then unique key, in text_ from here
    uint32_t keys_len;
    uint16_t uniq_len;
    uint8_t topic_len;
  };
  std::vector<Note> notes_;
  std::string text_;
};

// The hand-over: appenders publish the notes of each successful append (in log order: the
// put lock orders them), the dispatcher takes them a batch at a time, oldest first. A
// batch of kCopyBelow notes or more is queued by swapping buffers, never copied (a batched
// put's notes cost the put lock no copy); smaller ones are appended to the newest queued
// batch while it holds fewer than kCopyInto notes (single-message puts are not taken one
// by one). Emptied buffers come back through take() and are reused (kMaxSpares of them
// kept): no allocation once grown.
// Threading: publish() under the caller's put lock; take() from the dispatching thread;
// clear() before the dispatcher (re)starts. Bounded: while the dispatcher has not taken
// kMaxNotes notes, newer ones are dropped (those records are parsed instead).
class DispatchNotes {
 public:
  // Moves `batch`'s notes in (leaves it empty).
  void publish(DispatchNoteBatch& batch);
  // Swaps the oldest batch published into `into` (which must be empty); false when there
  // is none.
  bool take(DispatchNoteBatch& into);
  void clear();
  bool has_notes() const noexcept { return published_.load(std::memory_order_acquire); }
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  static constexpr size_t kMaxNotes = size_t{1} << 16;
  static constexpr size_t kMaxTextBytes = size_t{8} << 20;
  static constexpr size_t kCopyBelow = 16;
  static constexpr size_t kCopyInto = 4096;
  static constexpr size_t kMaxSpares = 64;

 private:
  AdaptiveMutex mu_;                       // held for swaps, small appends: a waiter spins rather than sleeps
  std::deque<DispatchNoteBatch> queued_;   // guarded by mu_; oldest first, none empty
  std::vector<DispatchNoteBatch> spares_;  // guarded by mu_; empty, with their capacity
  size_t queued_notes_ = 0;                // guarded by mu_; in queued_
  size_t queued_text_ = 0;                 // guarded by mu_; text bytes in queued_
  std::atomic<bool> published_{false};     // queued_ is not empty
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace mq::storage_mmap
