// The dispatcher (RocketMQ's ReputMessageService): goes forward through the commit log from
// the dispatched offset, appends consume-queue units and key-index entries, then tells
// arrival listeners. A record the appender left a dispatch note for is not read; any other
// (recovery, replication, notes dropped) is parsed from the mapping.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatch_notes.h"
#include "index_service.h"
#include "mq/message_store.h"

namespace mq::storage_mmap {

// Threading: one dispatcher thread between start() and stop(); before start(),
// dispatch_available() and write_out_tails() may be called on the recovering thread. wake()
// and the getters are safe from any thread. Consume-queue units are staged and published
// together every kPublishEvery records and at the end of what is available (into each
// queue's write-behind tail, readable at once; see ConsumeQueue); consumers see a message
// once max_offset of its queue is published. Right after, arrival listeners are told once
// per run of records of one (topic, queue, tag hash), with the run's last next-offset;
// dispatched() is published after both. The tails are written into the queue files when
// full and all of them every write_out_every; written_through() then says which records'
// units are all in the files (what a queue flush may call durable).
class Dispatcher {
 public:
  // `index` may be null (no key index). Every tail is written out at least every
  // `write_out_every` (StoreOptions::consume_queue_write_out_ms).
  Dispatcher(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, std::chrono::milliseconds write_out_every,
             std::shared_ptr<spdlog::logger> logger)
      : log_(log), queues_(queues), index_(index), write_out_every_(write_out_every), logger_(std::move(logger)) {}
  ~Dispatcher() { stop(); }

  // With a backlog, the staged consume-queue units are published, the arrival listeners told
  // and dispatched() moved every this many records (and at the end of what is available).
  // 256 made a pwrite of about one batch per queue (1.3 KiB at batch 64 x 128 B) when each
  // publish wrote the units; 4,096 took broker CPU per message 0.90 -> 0.85 us there
  // (docs/benchmarks.md, round 16), and holds a pull back by at most a few hundred
  // microseconds.
  static constexpr int kPublishEvery = 4096;

  // Not while the thread runs; the tails must be empty (written out): written_through() is
  // set too.
  void set_dispatched(int64_t offset) {
    dispatched_.store(offset, std::memory_order_release);
    written_through_.store(offset, std::memory_order_release);
  }
  int64_t dispatched() const noexcept { return dispatched_.load(std::memory_order_acquire); }
  // The consume-queue units of every record below this are in the queue files (not only in
  // a tail): a flush of the queues makes them durable.
  int64_t written_through() const noexcept { return written_through_.load(std::memory_order_acquire); }

  // Dispatches every record between dispatched() and the commit log's readable end (its
  // write position, or its flushed position once read-only).
  // Returns the number of records indexed; stops at the first error (logged, returned).
  Result<uint64_t> dispatch_available(bool notify_listeners);

  void add_listener(ArrivalListener listener);

  void start();
  // Dispatches what is written, then joins the thread. Idempotent.
  void stop();
  // Called after each publish of the write position. No system call: an idle dispatcher
  // polls every kIdlePoll (as RocketMQ's ReputMessageService), so puts never pay a futex
  // wake-up; only stop() wakes it explicitly.
  void wake() noexcept { wake_seq_.fetch_add(1, std::memory_order_release); }
  static constexpr std::chrono::microseconds kIdlePoll{1000};
  // Blocks until dispatched() >= offset or the timeout passes; true if reached.
  bool wait_dispatched(int64_t offset, std::chrono::milliseconds timeout);
  // Dispatching thread: publishes the consume-queue units staged since the last call (each
  // queue's max_offset() moves past them), then writes out every tail if write_out_every has
  // passed. Stops at the first error, keeping the rest.
  Status commit_staged();
  // Dispatching thread, or any thread while the dispatcher thread is not running: writes
  // every queue's tail into its files and moves written_through() to dispatched(). Stops at
  // the first error, keeping the rest.
  Status write_out_tails();

 private:
  void run();
  // The queue (created if new) from the cache of `topic`'s queues, `topic_queues` (queue ids
  // from kCachedQueueIds on go to the store each time).
  std::shared_ptr<ConsumeQueue> queue_of(std::vector<std::shared_ptr<ConsumeQueue>>& topic_queues,
                                         const std::string& topic, QueueId queue_id);
  static constexpr QueueId kCachedQueueIds = 65536;
  // The index in notes_ of the note for the record at `off`, or -1. Skips the notes of
  // records dispatched by parsing; takes the published notes when notes_ runs out.
  ptrdiff_t note_at(int64_t off);

  CommitLog& log_;
  ConsumeQueueStore& queues_;
  IndexService* index_;
  const std::chrono::milliseconds write_out_every_;
  bool index_failing_ = false;  // dispatching thread only: log an index error once
  DispatchNoteBatch notes_;     // dispatching thread only: taken from log_.dispatch_notes()
  size_t next_note_ = 0;        // the first note of notes_ not passed yet
  // Dispatching thread only: queues holding staged units, published by commit_staged().
  std::vector<std::shared_ptr<ConsumeQueue>> staged_queues_;
  // Dispatching thread only: every queue it met, by topic, then by queue id. The store's
  // look-up (a shared lock, a map walk comparing topics) each time the queue changed, every
  // 64 records at batch 64, cost ~2 % of the broker at 1,024 queues. Valid while the store's
  // generation() is cache_generation_ (queues are never removed, only all reloaded).
  std::unordered_map<std::string, std::vector<std::shared_ptr<ConsumeQueue>>> queue_cache_;
  uint64_t cache_generation_ = 0;
  // Dispatching thread only: queues whose tail is not empty (some may appear twice or be
  // empty again), written out by write_out_tails(), and when that last ran.
  std::vector<std::shared_ptr<ConsumeQueue>> tail_queues_;
  std::chrono::steady_clock::time_point last_write_out_ = std::chrono::steady_clock::now();
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<int64_t> dispatched_{0};
  std::atomic<int64_t> written_through_{0};
  std::atomic<uint32_t> wake_seq_{0};
  std::mutex idle_mu_;  // with idle_cv_: the idle wait, cut short by stop()
  std::condition_variable idle_cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  std::mutex listeners_mu_;
  std::vector<ArrivalListener> listeners_;  // guarded by listeners_mu_

  std::mutex progress_mu_;  // with progress_cv_: wakes wait_dispatched()
  std::condition_variable progress_cv_;
};

}  // namespace mq::storage_mmap
