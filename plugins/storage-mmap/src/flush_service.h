// The flush threads: one msyncs the commit log (ASYNC_FLUSH on a timer, SYNC_FLUSH as group
// commit completing waiting puts); the other flushes consume queues and the key index and
// writes the checkpoint.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "catalog.h"
#include "checkpoint.h"
#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "index_service.h"
#include "store_options.h"

namespace mq::storage_mmap {

// Threading: two threads between start() and stop(). submit() is safe from any thread and
// never blocks on I/O; its callback runs on the flush thread (or in stop()). The queue
// thread flushes consume queues and the key index every flushIntervalConsumeQueue and then
// writes the checkpoint: their msyncs (one per queue, 1,024 queues or more) and the fsyncs
// that make new consume-queue files durable never hold up a group commit.
// Group commit: each msync covers everything appended before it started; the flush thread
// then completes every request it covers and, if requests are still waiting (writers that
// arrived during the msync), starts the next msync at once: no sleep between flushes
// while anyone waits. It is also the commit log's writer of last resort (request_write):
// pending appends no putting thread is left to write. ASYNC_FLUSH msyncs stay on their
// interval however often it wakes for that.
// An msync failure turns the commit log read-only (logged once with the reason) and fails
// every waiting request with FLUSH_DISK_TIMEOUT naming it: those messages are appended
// but not known durable.
class FlushService {
 public:
  using Done = std::function<void(Status)>;

  // `index` may be null. The queue catalog is written next to the checkpoint.
  FlushService(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, Dispatcher& dispatcher,
               const StoreOptions& options, std::string checkpoint_path, std::string catalog_path,
               std::shared_ptr<spdlog::logger> logger);
  ~FlushService() { (void)stop(); }

  void start();
  // Joins the thread, then flushes everything, completes every request and writes the
  // checkpoint. Idempotent. Returns the first error of that final flush.
  Status stop();

  // SYNC_FLUSH group commit: `done(OK)` once the commit log is on disk up to next_offset.
  void submit(int64_t next_offset, Done done);
  // The commit log's write requester: the flush thread writes the pending appends (and
  // completes their waiters) as soon as it can. Any thread; never blocks on I/O.
  void request_write();

  // Commit-log flushes that wrote something, their total time, and SYNC_FLUSH requests
  // completed OK (requests / flushes = writers acknowledged per msync). Any thread.
  struct Stats {
    uint64_t flushes = 0;
    uint64_t flush_ns = 0;
    uint64_t requests_done = 0;
  };
  Stats stats() const noexcept {
    return Stats{flushes_.load(std::memory_order_relaxed), flush_ns_.load(std::memory_order_relaxed),
                 requests_done_.load(std::memory_order_relaxed)};
  }

  // Flushes the commit log, writes out the consume queues' tails, flushes every consume queue
  // and the key index, then writes the checkpoint (consume queues and index safe up to the
  // dispatched offset). For recovery and stop: not concurrent with the flush thread, nor
  // with the dispatcher thread.
  Status flush_all_and_checkpoint();

 private:
  struct Request {
    int64_t next_offset;
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };

  void run();
  void run_queues();  // the queue thread
  Status flush_commit_log();
  // Flushes every consume queue, and the key index when `with_index`; on success records
  // `cq_written` (Dispatcher::written_through) as safe for the queues and `dispatched` for
  // the index.
  Status flush_consume_queues(int64_t cq_written, int64_t dispatched, bool with_index);
  Status write_checkpoint();
  // Completes requests covered by the flushed position, failed ones and expired ones.
  void complete_requests(bool final_pass);

  CommitLog& log_;
  ConsumeQueueStore& queues_;
  IndexService* index_;
  Dispatcher& dispatcher_;
  StoreOptions options_;
  std::string checkpoint_path_;
  std::string catalog_path_;
  std::shared_ptr<spdlog::logger> logger_;

  std::mutex mu_;  // guards requests_, stopping_, write_requested_; with cv_ wakes the flush thread
  std::condition_variable cv_;
  std::condition_variable queues_cv_;  // with mu_: wakes the queue thread to stop
  std::vector<Request> requests_;
  bool stopping_ = false;
  bool write_requested_ = false;
  std::thread thread_;
  std::thread queues_thread_;
  bool stopped_ = false;

  // Flush-thread (or stop()) state.
  std::vector<Request> waiting_;
  std::vector<Request> still_;  // complete_requests() scratch, reused
  // Queue-thread (or stop()) state.
  int64_t cq_safe_ = 0;     // every record below has its consume-queue unit msync'ed
  int64_t index_safe_ = 0;  // every record below is in the msync'ed key index (or no index)
  CheckpointData last_written_{};
  std::vector<CatalogEntry> catalog_;          // as of the last consume-queue flush
  std::vector<CatalogEntry> catalog_written_;  // as last stored
  bool catalog_stored_ = false;
  std::atomic<bool> read_only_logged_{false};  // both threads: the first failure is logged
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> flush_ns_{0};
  std::atomic<uint64_t> requests_done_{0};
};

}  // namespace mq::storage_mmap
