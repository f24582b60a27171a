// MmapStore: the MessageStore service of storage-mmap. Ties the commit log, consume
// queues, dispatcher and flush thread together; owns start-up recovery and shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "flush_service.h"
#include "mq/message_store.h"
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
  GetResult get(const GetRequest& request) override;
  QueueOffset min_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset max_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) override;
  Result<StoredMessage> read_at(CommitLogOffset offset) override;
  void add_arrival_listener(ArrivalListener listener) override;
  StoreStats stats() override;

  // Blocks until everything written so far is dispatched (tests, tools). True if reached.
  bool wait_dispatched(std::chrono::milliseconds timeout);
  const StoreOptions& options() const noexcept { return options_; }

 private:
  Status recover();
  void finish_put(PutResult result, int64_t next_offset, bool wait_flush, PutCallback done);

  StoreOptions options_;
  HostAddress store_host_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<CommitLog> log_;
  std::unique_ptr<ConsumeQueueStore> queues_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<FlushService> flush_;
  StoreLock lock_;

  std::mutex lifecycle_mu_;  // serializes start/stop
  bool started_ = false;     // guarded by lifecycle_mu_
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> put_count_{0};
  std::atomic<uint64_t> get_count_{0};
};

}  // namespace mq::storage_mmap
