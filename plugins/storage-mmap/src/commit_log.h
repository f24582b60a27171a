// The commit log: every message of every topic appended to one sequence of mmap'd segments
// (FORMAT.md §1-2). Owns the put lock, the queue-offset table, the published write
// position, the flushed position and the read-only state.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adaptive_mutex.h"
#include "dispatch_notes.h"
#include "mapped_file_queue.h"
#include "mq/status.h"
#include "mq/types.h"
#include "record_codec.h"

namespace mq::storage_mmap {

// One record to append: either `plan` (written once, straight into the segment: the
// store's put path) or `rec`, encoded (encode_record) but not finalized.
struct AppendItem {
  EncodedRecord* rec = nullptr;
  std::string_view topic;
  QueueId queue_id = 0;
  bool consumes_queue_offset = true;
  // queue_key(topic, queue_id), built by the caller outside the put lock; append() fills
  // it when empty. Must stay valid for the call.
  std::string_view queue_key;
  const RecordPlan* plan = nullptr;  // when set, `rec` is ignored
  int32_t size() const noexcept { return plan ? plan->size : static_cast<int32_t>(rec->bytes.size()); }
};

struct AppendOutcome {
  int64_t offset = 0;  // commit-log offset of the record
  int32_t size = 0;
  int64_t queue_offset = 0;
  int64_t store_timestamp_ms = 0;
};

// Bytes of a record (or blank marker) in place. `file` keeps the mapping alive.
struct RecordRef {
  std::shared_ptr<MappedFile> file;
  const char* data = nullptr;
  int64_t to_segment_end = 0;  // bytes from `data` to the end of its segment
  int32_t record_size = 0;     // set by locate_record: the checked record's size
};

struct ScanResult {
  int64_t end = 0;          // offset after the last valid record (or blank)
  uint64_t records = 0;     // valid records seen
  std::string stop_reason;  // why the scan stopped when it was not a clean end
  // A valid record found after `end` (-1: none): `end` is then a hole in the middle of
  // the log, not its tail.
  int64_t valid_after = -1;
};

// Raw commit-log bytes (replication).
struct RawBytes {
  int64_t next_offset = 0;
  std::string bytes;
};

// When append() leaves a record's write for later (DeferWrite).
enum class DeferWrite {
  kNo,        // written before append() returns, unless behind unpublished appends
  kToFlush,   // appendWithPwrite: written by the next flush() (the caller waits for it anyway)
  kIfStaged,  // appendWithPwrite and a call big enough for pwrite: written by write_combined()
};

// Threading: append() from any thread (serialized by the put lock); flush() from the flush
// thread; locate()/write_pos() from any thread. Bytes below write_pos() are immutable and
// published with release/acquire ordering.
// Deferred appends are built under the put lock into the pending buffer and written with one
// pwrite per segment by whoever next holds the write lock: the flush thread's flush(), or an
// appender in write_combined() (flat combining: one thread writes and publishes the batches
// other threads staged meanwhile, and completes their when_written() waiters). The put lock
// is never held across those writes. Every writer looks again after letting go of the write
// lock; an appender writes at most kCombineRounds times per call and then hands what is
// still pending to the write requester (the flush thread), so no staged append is stranded
// and no appender is kept from its own work for long. Appends publish in log order: while
// anything is unpublished, every append defers (append() returns; write_pos() tells whether
// it is published). Recovery methods (load, scan, truncate, reset_after_recovery,
// set_queue_offsets) only before the store starts.
class CommitLog {
 public:
  CommitLog(std::string dir, int64_t segment_size) : segments_(std::move(dir), segment_size) {}

  Status load() { return segments_.load(); }
  // appendWithPwrite: appends of at least `min_bytes` build their records in a buffer and
  // write them with pwrite (one per segment per call) instead of storing through the mapping.
  // Before start only.
  void set_append_with_pwrite(bool on, int64_t min_bytes) {
    append_with_pwrite_ = on;
    append_with_pwrite_min_bytes_ = min_bytes;
  }
  // Appends of planned records (AppendItem::plan) leave a dispatch note for each record in
  // dispatch_notes(), for the dispatcher. Before start only.
  void enable_dispatch_notes() { notes_enabled_ = true; }
  DispatchNotes& dispatch_notes() noexcept { return dispatch_notes_; }
  MappedFileQueue& segments() { return segments_; }
  int64_t segment_size() const { return segments_.file_size(); }
  // The largest record a segment can take (one blank marker must always fit after it).
  int64_t max_record_size() const { return segments_.file_size() - kBlankSize; }

  // ---- recovery ----
  // Walks records from `from` (a record boundary) to the first end / invalid record.
  ScanResult scan(int64_t from, bool verify_crc) const;
  // Drops everything at and after `end`, makes `end` the write and flushed position and
  // reopens the log for appends.
  Status truncate(int64_t end);
  void set_queue_offsets(std::unordered_map<std::string, int64_t> table);

  // ---- append path ----
  // Appends items consecutively under one put-lock acquisition; all or nothing. Fails with
  // SERVICE_NOT_AVAILABLE when closed or read-only (naming the reason). A deferred append
  // is published later (write_pos() below its end when this returns): kToFlush callers
  // wait for a flush; everyone else calls when_written() and then write_combined().
  Status append(std::span<AppendItem> items, std::vector<AppendOutcome>* out, DeferWrite defer = DeferWrite::kNo);
  // Calls `done(OK)` once the log is published up to `end` (at once if it is), or
  // `done(error)` when a write error makes that impossible. Runs on the thread that
  // publishes it (or this one).
  void when_written(int64_t end, std::function<void(Status)> done);
  // Writes the pending appends unless another thread is writing them (that writer then sees
  // these when it lets go of the lock). Never waits for another writer. True when this
  // thread published something.
  bool write_combined();
  // Writes (waiting for the write lock) what is pending once and completes the waiters it
  // covers; asks the write requester for another round if more is pending by then. For the
  // write requester's thread.
  Status write_pending();
  // Called (without locks held) when pending appends need a writer: set before start.
  void set_write_requester(std::function<void()> fn) { on_write_request_ = std::move(fn); }
  // Slave side of replication: `bytes` (whole valid records, optionally ending with a
  // blank marker) are written at `at`, which must be the write position. All or nothing.
  // Returns the new write position.
  Result<int64_t> append_raw(int64_t at, std::string_view bytes);
  // Master side: whole records (and a final blank marker) from `from`, within one segment.
  Result<RawBytes> read_raw(int64_t from, int64_t max_bytes) const;
  // Called (without locks held) after an append moved into a new segment: the segment
  // allocator pre-creates the one after it.
  void set_roll_listener(std::function<void()> fn) { on_roll_ = std::move(fn); }
  uint64_t segments_created_on_put_path() const noexcept { return sync_creates_.load(std::memory_order_relaxed); }
  // Disk full: appends fail with SERVICE_NOT_AVAILABLE and `reason` until cleared.
  void set_disk_full(std::string reason);
  void clear_disk_full();
  bool disk_full() const noexcept { return disk_full_.load(std::memory_order_acquire); }
  // After close(), append fails; pending appends are written and published before it
  // returns (a write error turns the log read-only), then the write position no longer moves.
  void close();

  // ---- positions ----
  int64_t write_pos() const noexcept { return write_pos_.load(std::memory_order_acquire); }
  int64_t flushed_pos() const noexcept { return flushed_.load(std::memory_order_acquire); }
  // The end of everything appended, pending appends included (>= write_pos()).
  int64_t appended_pos() const noexcept { return appended_pos_.load(std::memory_order_acquire); }
  // Where reads, raw reads and dispatch stop: write_pos(), or flushed_pos() once the log
  // is read-only (after an msync failure the bytes past it may never reach the disk).
  int64_t readable_end() const noexcept { return read_only() ? flushed_pos() : write_pos(); }
  int64_t min_offset() const { return segments_.min_offset(0); }
  int64_t last_store_timestamp() const noexcept { return last_store_ts_.load(std::memory_order_acquire); }

  // Writes and publishes pending appends, then msyncs up to write_pos(); on error the log
  // turns read-only and the error is returned. Any thread; flushes are serialized.
  Status flush();

  // Turns the log read-only with `reason` (the first reason stays) and fails the puts
  // waiting for their write. Not with the write lock or the put lock held.
  void set_read_only(const std::string& reason);
  bool read_only() const noexcept { return read_only_.load(std::memory_order_acquire); }
  std::string read_only_reason() const;

  // The record or blank marker at `offset`, which must be below readable_end().
  Result<RecordRef> locate(int64_t offset) const;
  // Locates and CRC-checks the record at `offset` (a whole record below readable_end()).
  // The reference keeps its segment mapped while the caller reads `record_size` bytes.
  Result<RecordRef> locate_record(int64_t offset) const;
  // locate_record, then decodes.
  Result<StoredMessage> read(int64_t offset) const;

  static std::string queue_key(std::string_view topic, QueueId queue_id);
  // The same key into a reused buffer (no allocation once it has grown).
  static void queue_key_into(std::string_view topic, QueueId queue_id, std::string* out);

 private:
  MappedFileQueue segments_;

  AdaptiveMutex put_mu_;  // the put lock: guards everything below up to the atomics
  bool closed_ = false;
  int64_t append_pos_ = 0;  // == write_pos_ outside append()
  bool append_with_pwrite_ = false;
  int64_t append_with_pwrite_min_bytes_ = 0;
  std::string stage_;  // appendWithPwrite: the records of one append() before their pwrite
  bool notes_enabled_ = false;
  DispatchNoteBatch call_notes_;  // the notes of one append(), published if it succeeds
  // Deferred appends not yet written: their bytes, one piece per segment run, in log order;
  // they cover [write_pos_, append_pos_) exactly. Swapped out whole by write_pending_locked().
  struct PendingPiece {
    std::shared_ptr<MappedFile> seg;
    int64_t at = 0;   // commit-log offset of the first byte
    size_t from = 0;  // where the bytes start in the buffer
    size_t len = 0;
  };
  std::string pending_;  // capacity in use up to pending_len_
  size_t pending_len_ = 0;
  std::vector<PendingPiece> pending_pieces_;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>> queue_offsets_;
  std::shared_ptr<MappedFile> active_;  // the segment holding append_pos_ (a cache)

  std::atomic<int64_t> write_pos_{0};
  std::atomic<int64_t> flushed_{0};
  std::atomic<int64_t> last_store_ts_{0};
  std::atomic<int64_t> appended_pos_{0};  // mirrors append_pos_ for readers of appended_pos()
  std::mutex flush_mu_;                   // serializes flush(); taken before write_mu_
  std::mutex write_mu_;                   // the write lock: one writer of pending appends; before put_mu_
  // The writer's side of the pending buffer (guarded by write_mu_): reused between writes.
  std::string writing_;
  std::vector<PendingPiece> writing_pieces_;
  struct WriteWaiter {
    int64_t end;
    std::function<void(Status)> done;
  };
  std::vector<WriteWaiter> write_waiters_;  // guarded by put_mu_
  // With write_mu_ held: writes what is pending and publishes it. A write error turns the
  // log read-only (the bytes may be partly on disk; nothing past write_pos() is trusted).
  Status write_pending_locked();
  // After a writer let go of the write lock: asks the write requester to write what is
  // still pending, if anything is.
  void request_write_if_pending();
  std::function<void()> on_write_request_;  // set before start
  static constexpr int kCombineRounds = 3;  // writes per write_combined() call at most
  // Completes the waiters the published position (or the read-only state) settles; calls
  // them with no lock held.
  void complete_written();
  // set_read_only without completing waiters (with the write lock held).
  void mark_read_only(const std::string& reason);

  DispatchNotes dispatch_notes_;
  std::function<void()> on_roll_;  // set before start
  std::atomic<uint64_t> sync_creates_{0};

  std::atomic<bool> read_only_{false};
  std::atomic<bool> disk_full_{false};
  mutable std::mutex reason_mu_;
  std::string read_only_reason_;  // guarded by reason_mu_
  std::string disk_full_reason_;  // guarded by reason_mu_
  // Looks for a valid record after `off`: in the next `window` bytes of its segment and at
  // every later segment's start.
  int64_t find_valid_after(int64_t off, int64_t window) const;
  // Under the put lock: the base of the first segment `items` would roll into (from
  // append_pos_) that does not exist yet, or -1 when all exist.
  int64_t first_missing_segment(std::span<const AppendItem> items) const;
  // Attempt `attempt` to create the segment starting at `missing` with `lock` (the put lock)
  // released, never held across file creation; retaken before returning. SYSTEM_BUSY after
  // kMaxCreateAttempts; the caller re-checks everything after it returns.
  Status create_segment_unlocked(std::unique_lock<AdaptiveMutex>& lock, int64_t missing, int attempt);
  // Put-path creations per append before giving up with SYSTEM_BUSY (the allocator or
  // retention racing ahead of us every time).
  static constexpr int kMaxCreateAttempts = 4;
  // appendWithPwrite: the staging buffer kept between calls at most (a larger one is freed).
  static constexpr size_t kKeptStageBytes = size_t{16} << 20;
  static constexpr int64_t kZeroEndSearchWindow = int64_t{1} << 20;
};

}  // namespace mq::storage_mmap
