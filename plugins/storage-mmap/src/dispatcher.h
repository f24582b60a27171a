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
#include <vector>

#include <spdlog/logger.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatch_notes.h"
#include "index_service.h"
#include "mq/message_store.h"

namespace mq::storage_mmap {

// Threading: one dispatcher thread between start() and stop(); before start(),
// dispatch_available() may be called on the recovering thread. wake() and the getters are
// safe from any thread. Consume-queue units are staged and written together every 256
// records and at the end of what is available (one pwrite per queue touched); consumers see
// a message once its unit is written and max_offset of its queue published. Right after,
// arrival listeners are told once per run of records of one (topic, queue, tag hash), with
// the run's last next-offset; dispatched() is published after both.
class Dispatcher {
 public:
  // `index` may be null (no key index).
  Dispatcher(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, std::shared_ptr<spdlog::logger> logger)
      : log_(log), queues_(queues), index_(index), logger_(std::move(logger)) {}
  ~Dispatcher() { stop(); }

  // With a backlog, the staged consume-queue units are written, the arrival listeners told
  // and dispatched() moved every this many records (and at the end of what is available).
  // 256 made a pwrite of about one batch per queue (1.3 KiB at batch 64 x 128 B); 4,096 took
  // broker CPU per message 0.90 -> 0.85 us there (docs/benchmarks.md, round 16), and holds a
  // pull back by at most a few hundred microseconds.
  static constexpr int kPublishEvery = 4096;

  void set_dispatched(int64_t offset) { dispatched_.store(offset, std::memory_order_release); }
  int64_t dispatched() const noexcept { return dispatched_.load(std::memory_order_acquire); }

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
  // Dispatching thread: writes the consume-queue units staged since the last call (each
  // queue's max_offset() moves past them). Stops at the first error, keeping the rest.
  Status commit_staged();

 private:
  void run();
  // The index in notes_ of the note for the record at `off`, or -1. Skips the notes of
  // records dispatched by parsing; takes the published notes when notes_ runs out.
  ptrdiff_t note_at(int64_t off);

  CommitLog& log_;
  ConsumeQueueStore& queues_;
  IndexService* index_;
  bool index_failing_ = false;  // dispatching thread only: log an index error once
  DispatchNoteBatch notes_;     // dispatching thread only: taken from log_.dispatch_notes()
  size_t next_note_ = 0;        // the first note of notes_ not passed yet
  // Dispatching thread only: queues holding staged units, written by commit_staged().
  std::vector<std::shared_ptr<ConsumeQueue>> staged_queues_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<int64_t> dispatched_{0};
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
