// One consume queue: the index of one (topic, queue id), fixed 20-byte units
// [commit-log offset i64][size i32][tag hash i64] (FORMAT.md §3), unit q at byte q*20.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adaptive_mutex.h"
#include "mapped_file_queue.h"
#include "mq/status.h"
#include "mq/types.h"

namespace mq::storage_mmap {

inline constexpr int64_t kCqUnitSize = 20;

struct CqUnit {
  int64_t commit_log_offset = 0;
  int32_t size = 0;
  int64_t tag_hash = 0;
};

// Threading: one writer (the dispatcher thread, or recovery before start) calls put_unit /
// commit / write_out / truncate; the queue flush thread calls flush; readers on any thread
// call read_unit / min / max. Units below max_offset() are immutable and published with
// release/acquire.
//
// Units are staged in memory by put_unit; commit() publishes them (max_offset()) into the
// write-behind tail, an in-memory copy readers read under tail_mu_, and write_out() writes
// the tail with one pwrite per file, moving file_end() past it. commit() writes the tail
// first once it holds kWriteBehindBytes, and the dispatcher writes every tail at least
// every StoreOptions::consume_queue_write_out_ms. Why: at 1,024 queues a queue gets one
// batch of units every few tens of milliseconds; written at each commit that was ~34,000
// pwrites a second of about 1.3 KiB each (a system call and the file's page-cache
// bookkeeping per write), the dispatcher's largest cost there (docs/benchmarks.md, round
// 21). Not through the mapping: a page dirtied through a mapping is write-protected again by
// its write-back (msync), and on a machine with more than one CPU running the process each
// such page costs a TLB-shootdown interrupt (on a virtual machine, exits to the host): 4-5 %
// of the broker's CPU at a million messages/s.
class ConsumeQueue {
 public:
  // Readers fault in only the pages they read (read-ahead would zero up to a large folio of
  // the file's unwritten part).
  ConsumeQueue(std::string topic, QueueId queue_id, std::string dir, int64_t file_size)
      : topic_(std::move(topic)), queue_id_(queue_id), files_(std::move(dir), file_size) {
    files_.set_no_readahead();
    files_.set_deferred_create_sync();  // flush() makes new files durable first
  }

  // Maps the files and finds the end: after the last unit with a non-zero size, searching
  // backwards from the end of the last file (zero units before it are holes, not the end).
  Status load();

  const std::string& topic() const noexcept { return topic_; }
  QueueId queue_id() const noexcept { return queue_id_; }

  // Stages unit `queue_offset` (readers see it after commit()). Idempotent: a unit below
  // the staged end is left as is (the dispatcher re-runs over already indexed records after
  // a crash). A gap (offset above the end) is logged by the caller and left as zero units,
  // which readers skip. May commit what was staged before (a full stage) and, at a gap,
  // write out the tail (the holes are the files' zeros).
  Status put_unit(int64_t queue_offset, const CqUnit& unit);
  // Publishes the staged units (max_offset() moves past them) into the tail, after writing
  // the tail out if it holds kWriteBehindBytes. On a write error the units stay staged (a
  // later commit retries) and max_offset() does not move: the tail stays bounded.
  Status commit();
  // Writes the tail into the files (one pwrite per file) and moves file_end() past it; with
  // `trim` a buffer that held under kWriteBehindBytes / 8 is freed (a queue gone quiet keeps
  // no memory, a busy one its buffer). On error the tail stays as it was (a later write_out
  // rewrites it whole).
  Status write_out(bool trim = false);
  static constexpr size_t kWriteBehindBytes = 32 * 1024;
  bool has_staged() const noexcept { return !staged_.empty(); }
  // Writer thread only: published units not written out yet.
  bool has_tail() const noexcept { return !tail_.empty(); }
  // Writer thread only: max_offset() plus the units staged after it.
  int64_t write_end() const noexcept {
    return staged_.empty() ? max_offset() : staged_first_ + static_cast<int64_t>(staged_.size()) / kCqUnitSize;
  }
  // Drops units that reference bytes at or beyond `commit_log_end`. Returns how many.
  Result<int64_t> truncate_beyond(int64_t commit_log_end);
  // Deletes whole files whose units all point below `commit_log_min` (never the last
  // file) and moves min_offset() to the first unit at or above it. Returns files deleted.
  // Called by the clean thread; the dispatcher only appends at the end. `error` (optional)
  // gets an unlink / directory fsync failure.
  int delete_below(int64_t commit_log_min, Status* error = nullptr);
  // Recovery only: drops every file (the queue is rebuilt by re-dispatching).
  void reset();
  // Recovery only: checks the units (sizes, increasing offsets below `log_end`) and that the
  // last unit's record belongs to this queue at its offset (`describe` reads
  // topic/queue/queue offset of a record). An error describes the first fault.
  using RecordIdentity = std::function<bool(int64_t offset, std::string* topic, QueueId* queue, int64_t* qoff)>;
  Status validate(int64_t log_min, int64_t log_end, const RecordIdentity& describe) const;
  // msync of units written out since the last flush (the tail is not in the files yet).
  Status flush();

  int64_t min_offset() const noexcept { return min_offset_.load(std::memory_order_acquire); }
  int64_t max_offset() const noexcept { return max_offset_.load(std::memory_order_acquire); }
  // Units below this are in the files (flush() makes them durable); [file_end(), max_offset())
  // are the tail's.
  int64_t file_end() const noexcept { return file_end_.load(std::memory_order_acquire); }
  // Unit `queue_offset` if min <= queue_offset < max; a zero unit (size 0) is a hole.
  bool read_unit(int64_t queue_offset, CqUnit* out) const;
  // End of the last unit's record in the commit log (0 when empty).
  int64_t max_commit_log_end() const;

 private:
  // The file holding byte `byte` of the queue, for writing.
  Result<MappedFile*> file_for_write(int64_t byte);
  // read_unit without the [min, max) check (from the tail, or the file, which must be mapped).
  bool read_unit_raw(int64_t queue_offset, CqUnit* out) const;
  // Any thread: unit `queue_offset` from the tail if it is still there.
  bool read_tail_unit(int64_t queue_offset, CqUnit* out) const;
  static constexpr int32_t kFixedOverheadForCq = 91;  // smallest commit-log record

  std::string topic_;
  QueueId queue_id_;
  MappedFileQueue files_;
  std::atomic<int64_t> min_offset_{0};
  std::atomic<int64_t> max_offset_{0};
  int64_t flushed_bytes_ = 0;  // flush thread (or the writer before start) only
  // The write-behind tail: encoded units [file_end_, max_offset_). Changed by the writer
  // thread only, under tail_mu_; readers copy from it under tail_mu_; the writer reads it
  // without the lock. file_end_ moves (release, under tail_mu_) only after the files hold
  // the units below it.
  mutable AdaptiveMutex tail_mu_;
  std::string tail_;
  std::atomic<int64_t> file_end_{0};
  // Writer thread only: encoded units staged from queue offset staged_first_ on (at or past
  // max_offset_, contiguous with the tail when it is not empty); at most kMaxStagedBytes.
  std::string staged_;
  int64_t staged_first_ = 0;
  static constexpr size_t kMaxStagedBytes = 64 * 1024;
  // Writer thread only: the file commit() wrote into last (the last file, which
  // delete_below never deletes); dropped by truncate_beyond and reset.
  std::shared_ptr<MappedFile> write_file_;
};

}  // namespace mq::storage_mmap
