// MmapStore: the MessageStore service of storage-mmap. Ties the commit log, consume
// queues, dispatcher and flush thread together; owns start-up recovery and shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include "clean_service.h"
#include "cold_log_reader.h"
#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "flush_service.h"
#include "index_service.h"
#include "mq/message_store.h"
#include "segment_allocator.h"
#include "store_lock.h"
#include "store_options.h"

namespace mq::storage_mmap {

// Lifecycle: construct -> start() (lock, recovery, threads) -> ... -> stop() (drain the
// dispatcher, flush, checkpoint, remove `abort`, unlock). stop() is idempotent and run by
// the destructor. MessageStore methods are safe from any thread; put before start() or
// after stop() fails with SERVICE_NOT_AVAILABLE. Reads stay possible after stop().
class MmapStore final : public MessageStore {
 public:
  MmapStore(StoreOptions options, HostAddress store_host, std::shared_ptr<spdlog::logger> logger);
  ~MmapStore() override;

  Status start();
  void stop();

  void put(StoredMessage msg, PutCallback done) override;
  void put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) override;
  void put_views(std::span<const MessageView> msgs, PutViewsCallback done) override;
  // At most min(max_count, kMaxGetCount) messages and max_bytes (or the first message
  // alone when larger); scans at most max(800, that count) queue units.
  GetResult get(const GetRequest& request) override;
  bool get_records(const GetRequest& request, GetRecordsResult* out) override;
  static constexpr int32_t kMaxGetCount = 1024;
  QueueOffset min_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset max_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) override;
  Result<StoredMessage> read_at(CommitLogOffset offset) override;
  void add_arrival_listener(ArrivalListener listener) override;
  StoreStats stats() override;
  // Empty when nothing matches or the index is off (messageIndexEnable=false, logged once).
  std::vector<StoredMessage> query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                          int64_t begin_ms, int64_t end_ms) override;
  Result<RawChunk> read_raw(CommitLogOffset from, int32_t max_bytes) override;
  Result<CommitLogOffset> append_raw(CommitLogOffset at, std::string_view bytes) override;
  // Pauses the store's threads (puts fail with SERVICE_NOT_AVAILABLE meanwhile), drops the
  // commit log from `end` (a record boundary), the consume-queue units pointing there or
  // beyond and rewinds the dispatcher, flushes and checkpoints, then resumes. Stale key-index
  // entries beyond `end` stay; queries re-check every hit against the record.
  Result<CommitLogOffset> truncate_to(CommitLogOffset end) override;

  // Tests and tools: one retention / disk-check pass now (not concurrent with the clean
  // thread's own pass: call it with cleanResourceInterval set long).
  CleanOutcome clean_now(std::chrono::system_clock::time_point now);
  bool disk_full() const noexcept { return log_->disk_full(); }
  // How many segments the put path had to create itself (the allocator was behind).
  uint64_t segments_created_on_put_path() const noexcept { return log_->segments_created_on_put_path(); }

  // With warmMapedFileEnable: the commit-log offset pages are pre-faulted up to (benchmark).
  int64_t warmed_to() const noexcept { return allocator_->warmed_to(); }
  // With commitLogPageCacheMiB: the commit-log offset the page cache was dropped below (tests).
  int64_t cache_dropped_to() const noexcept { return allocator_->cache_dropped_to(); }

  // With commitLogColdReadMiB: what the reads below the page-cache window did (tests, tools).
  ColdLogReader::Stats cold_read_stats() const { return cold_ ? cold_->stats() : ColdLogReader::Stats{}; }

  // Group-commit figures (benchmark, tools): commit-log flushes, their time, acknowledged puts.
  FlushService::Stats flush_stats() const noexcept { return flush_->stats(); }

  // Blocks until everything written so far is dispatched (tests, tools). True if reached.
  bool wait_dispatched(std::chrono::milliseconds timeout);
  const StoreOptions& options() const noexcept { return options_; }
  const CommitLog& commit_log() const noexcept { return *log_; }

 private:
  Status recover();
  void finish_put(PutResult result, int64_t next_offset, bool wait_flush, PutCallback done);
  // SYNC_FLUSH and the message's WAIT property not "false": the put is acknowledged after
  // the group commit's msync, and its append is deferred to that flush.
  bool waits_for_flush(std::string_view wait_store_msg_ok) const noexcept;
  DeferWrite defer_mode(bool wait) const noexcept {
    if (wait) return DeferWrite::kToFlush;
    return options_.combine_append_writes ? DeferWrite::kIfStaged : DeferWrite::kNo;
  }
  // Runs `then(Status)` once the append ending at `end` is published: at once when it is,
  // else on the thread that writes it (write_combined() may make that this one). A put that
  // waits for its flush is written by that flush: `then` runs at once.
  template <class Then>
  void when_published(int64_t end, bool wait, Then&& then) {
    if (log_->write_pos() >= end) {
      dispatcher_->wake();
      return then(Status::ok());
    }
    if (wait) return then(Status::ok());
    log_->when_written(end, std::function<void(Status)>(std::forward<Then>(then)));
    if (log_->write_combined()) dispatcher_->wake();
  }
  // The consume-queue walk of get() and get_records(): `take(commit_log_offset, size,
  // truncation generation)` reads one unit's record and returns true (taken), false (the filter said no) or the reason
  // the record is bad (the walk stops before it); `drop()` discards everything taken when a truncation overlapped the
  // walk.
  template <class Take, class Drop>
  GetResult scan_queue(const GetRequest& req, Take&& take, Drop&& drop);

  StoreOptions options_;
  HostAddress store_host_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<CommitLog> log_;
  std::unique_ptr<ConsumeQueueStore> queues_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<IndexService> index_;
  std::unique_ptr<FlushService> flush_;
  std::unique_ptr<SegmentAllocator> allocator_;
  std::unique_ptr<CleanService> cleaner_;
  std::unique_ptr<ColdLogReader> cold_;  // null unless both commitLogPageCacheMiB and commitLogColdReadMiB
  StoreLock lock_;

  std::mutex lifecycle_mu_;  // serializes start/stop
  bool started_ = false;     // guarded by lifecycle_mu_
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> put_count_{0};
  std::atomic<uint64_t> get_count_{0};
  std::atomic<int64_t> recovered_end_{-1};  // log end when recover() finished (stats())
  // Seqlock against truncate_to: odd while a truncation runs. Readers (get, read_at,
  // read_raw) fail cleanly ("retry") when it is odd at their start or changed by their end,
  // instead of skipping units being zeroed or reading bytes mid-memset.
  std::atomic<uint64_t> truncation_gen_{0};
  bool truncation_intervened(uint64_t gen_at_start) const noexcept;
  std::atomic<bool> index_off_logged_{false};
};

}  // namespace mq::storage_mmap
