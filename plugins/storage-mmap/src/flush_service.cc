// FlushService: timed / group-commit msync loop; consume-queue flush and checkpoint loop.
#include "flush_service.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace mq::storage_mmap {

FlushService::FlushService(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, Dispatcher& dispatcher,
                           const StoreOptions& options, std::string checkpoint_path, std::string catalog_path,
                           std::shared_ptr<spdlog::logger> logger)
    : log_(log),
      queues_(queues),
      index_(index),
      dispatcher_(dispatcher),
      options_(options),
      checkpoint_path_(std::move(checkpoint_path)),
      catalog_path_(std::move(catalog_path)),
      logger_(std::move(logger)) {}

void FlushService::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  stopped_ = false;
  thread_ = std::thread([this] { run(); });
  queues_thread_ = std::thread([this] { run_queues(); });
}

Status FlushService::stop() {
  if (stopped_) return Status::ok();
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  queues_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (queues_thread_.joinable()) queues_thread_.join();
  Status st = flush_all_and_checkpoint();
  complete_requests(/*final_pass=*/true);
  return st;
}

void FlushService::submit(int64_t next_offset, Done done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.sync_flush_timeout_ms);
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      requests_.push_back(Request{next_offset, deadline, std::move(done)});
      done = nullptr;
    }
  }
  if (done) {
    // Stopping: never OK, even when the final flush covered the bytes. truncate_to stops this
    // service and may then cut exactly these bytes (review finding 10); a retry may duplicate
    // a message, an OK for dropped bytes would lose it.
    done(Status::error(Code::kServiceNotAvailable,
                       "message store stopping (shutdown or replication truncation) before the message was known "
                       "durable; retry"));
    return;
  }
  cv_.notify_one();
}

void FlushService::request_write() {
  {
    std::lock_guard lock(mu_);
    if (write_requested_) return;
    write_requested_ = true;
  }
  cv_.notify_one();
}

Status FlushService::flush_commit_log() {
  const bool dirty = log_.appended_pos() > log_.flushed_pos();
  const int64_t published = log_.write_pos();
  const auto t0 = std::chrono::steady_clock::now();
  Status st = log_.flush();
  if (log_.write_pos() != published) dispatcher_.wake();  // the flush wrote deferred appends
  if (dirty) {
    flushes_.fetch_add(1, std::memory_order_relaxed);
    flush_ns_.fetch_add(
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()),
        std::memory_order_relaxed);
  }
  if (!st && !read_only_logged_.exchange(true))
    logger_->error("commit-log flush failed; the store is now read-only and refuses puts: {}", st.message());
  return st;
}

Status FlushService::flush_consume_queues(int64_t cq_written, int64_t dispatched, bool with_index) {
  std::vector<CatalogEntry> catalog;
  if (index_ && with_index) {
    if (Status st = index_->flush(); !st) {
      log_.set_read_only(st.message());
      if (!read_only_logged_.exchange(true))
        logger_->error("key-index flush failed; the store is now read-only and refuses puts: {}", st.message());
      return st;
    }
  }
  for (const auto& cq : queues_.all()) {
    const int64_t end = cq->file_end();  // flush() covers at least this
    catalog.push_back(CatalogEntry{cq->topic(), cq->queue_id(), end});
    if (Status st = cq->flush(); !st) {
      log_.set_read_only(st.message());
      if (!read_only_logged_.exchange(true))
        logger_->error("consume-queue flush failed; the store is now read-only and refuses puts: {}", st.message());
      return st;
    }
  }
  cq_safe_ = cq_written;
  if (!index_ || with_index) index_safe_ = dispatched;
  catalog_ = std::move(catalog);
  return Status::ok();
}

Status FlushService::write_checkpoint() {
  // The catalog first: a checkpoint never claims queues the catalog does not list.
  if (!catalog_stored_ || catalog_ != catalog_written_) {
    if (Status st = store_catalog(catalog_path_, catalog_); !st) {
      logger_->warn("queue catalog not written: {}", st.message());
      return st;
    }
    catalog_written_ = catalog_;
    catalog_stored_ = true;
  }
  CheckpointData d;
  d.commit_log_flushed = log_.flushed_pos();
  d.consume_queue_safe = std::min({cq_safe_, index_safe_, d.commit_log_flushed});
  d.physic_msg_timestamp = log_.last_store_timestamp();
  if (d.commit_log_flushed == last_written_.commit_log_flushed &&
      d.consume_queue_safe == last_written_.consume_queue_safe)
    return Status::ok();
  if (Status st = store_checkpoint(checkpoint_path_, d); !st) {
    logger_->warn("checkpoint not written: {}", st.message());
    return st;
  }
  last_written_ = d;
  return Status::ok();
}

Status FlushService::flush_all_and_checkpoint() {
  Status first = flush_commit_log();
  Status cq = dispatcher_.write_out_tails();  // (the dispatcher thread is not running)
  if (cq.is_ok())
    cq = flush_consume_queues(dispatcher_.written_through(), dispatcher_.dispatched(), /*with_index=*/true);
  if (first.is_ok()) first = cq;
  if (first.is_ok()) first = write_checkpoint();
  return first;
}

void FlushService::complete_requests(bool final_pass) {
  {
    std::lock_guard lock(mu_);
    for (auto& r : requests_) waiting_.push_back(std::move(r));
    requests_.clear();
  }
  if (waiting_.empty()) return;
  int64_t flushed = log_.flushed_pos();
  bool read_only = log_.read_only();
  auto now = std::chrono::steady_clock::now();
  for (auto& r : waiting_) {
    if (flushed >= r.next_offset) {
      // Counted before the completion runs: whoever it wakes sees itself in the stats.
      requests_done_.fetch_add(1, std::memory_order_relaxed);
      r.done(Status::ok());
    } else if (read_only) {
      r.done(Status::error(Code::kFlushDiskTimeout, "message appended but not flushed: " + log_.read_only_reason()));
    } else if (final_pass || now >= r.deadline) {
      r.done(Status::error(Code::kFlushDiskTimeout, "message appended but not flushed within syncFlushTimeout=" +
                                                        std::to_string(options_.sync_flush_timeout_ms) + " ms"));
    } else {
      still_.push_back(std::move(r));
    }
  }
  waiting_.swap(still_);
  still_.clear();
}

void FlushService::run() {
  using Clock = std::chrono::steady_clock;
  const bool sync = options_.flush_disk_type == FlushDiskType::kSync;
  const int64_t page = ::sysconf(_SC_PAGESIZE);
  auto last_thorough = Clock::now();
  const auto interval = sync ? std::chrono::milliseconds(10) : std::chrono::milliseconds(options_.flush_interval_ms);
  auto next_async_flush = Clock::now() + interval;
  while (true) {
    bool write_now = false;
    {
      std::unique_lock lock(mu_);
      if (stopping_) break;
      if (sync) {
        if (requests_.empty() && waiting_.empty() && !write_requested_)
          cv_.wait_for(lock, interval, [&] { return stopping_ || write_requested_ || !requests_.empty(); });
      } else {
        cv_.wait_until(lock, next_async_flush, [&] { return stopping_ || write_requested_; });
      }
      if (stopping_) break;
      write_now = std::exchange(write_requested_, false);
    }
    if (write_now) {
      const int64_t published = log_.write_pos();
      (void)log_.write_pending();  // an error turns the log read-only, reported by the next flush
      if (log_.write_pos() != published) dispatcher_.wake();
    }
    auto now = Clock::now();
    if (!sync && now < next_async_flush) continue;  // woken to write: the msync keeps its interval
    next_async_flush = now + interval;
    int64_t dirty = log_.appended_pos() - log_.flushed_pos();
    bool thorough = now - last_thorough >= std::chrono::milliseconds(options_.flush_thorough_interval_ms);
    if (dirty > 0 && (sync || thorough || dirty >= options_.flush_least_pages * page)) {
      (void)flush_commit_log();
      if (thorough) last_thorough = now;
    }
    if (sync) complete_requests(false);
  }
}

void FlushService::run_queues() {
  using Clock = std::chrono::steady_clock;
  auto last_index = Clock::now();
  while (true) {
    {
      std::unique_lock lock(mu_);
      queues_cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_consume_queue_interval_ms),
                          [&] { return stopping_; });
      if (stopping_) break;
    }
    const auto now = Clock::now();
    const bool with_index = now - last_index >= std::chrono::milliseconds(options_.flush_index_interval_ms);
    if (with_index) last_index = now;
    // (Read before the flushes: they cover at least what these say.)
    const int64_t cq_written = dispatcher_.written_through();
    const int64_t dispatched = dispatcher_.dispatched();
    if (flush_consume_queues(cq_written, dispatched, with_index).is_ok()) (void)write_checkpoint();
  }
}

}  // namespace mq::storage_mmap
