// The dispatcher (RocketMQ's ReputMessageService): reads the commit log forward from the
// dispatched offset, appends consume-queue units, then tells arrival listeners.
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
#include "index_service.h"
#include "mq/message_store.h"

namespace mq::storage_mmap {

// Threading: one dispatcher thread between start() and stop(); before start(),
// dispatch_available() may be called on the recovering thread. wake() and the getters are
// safe from any thread. Consumers see a message once its unit is written and max_offset
// of its queue published; arrival listeners are told once per run of records of one
// (topic, queue, tag hash), with the run's last next-offset; dispatched() is published
// after both.
class Dispatcher {
 public:
  // `index` may be null (no key index).
  Dispatcher(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, std::shared_ptr<spdlog::logger> logger)
      : log_(log), queues_(queues), index_(index), logger_(std::move(logger)) {}
  ~Dispatcher() { stop(); }

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
  // Called after each publish of the write position. A busy dispatcher is not woken (no
  // system call: it passes again as soon as it is done); one that sleeps is, by the first
  // put that finds it asleep, so a message reaches its consume queue (and a held pull)
  // without waiting out the idle poll. The idle poll (kIdlePoll, as RocketMQ's
  // ReputMessageService) stays as a backstop.
  void wake() noexcept {
    wake_seq_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false, std::memory_order_seq_cst)) {
      std::lock_guard lock(idle_mu_);  // the sleeper checks wake_seq_ under it: no lost notify
      idle_cv_.notify_one();
      sleeper_wakeups_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Tests: whether the dispatching thread sleeps now, and how often wake() woke it.
  bool sleeping() const noexcept { return sleeping_.load(std::memory_order_seq_cst); }
  uint64_t sleeper_wakeups() const noexcept { return sleeper_wakeups_.load(std::memory_order_relaxed); }
  static constexpr std::chrono::microseconds kIdlePoll{1000};
  // Blocks until dispatched() >= offset or the timeout passes; true if reached.
  bool wait_dispatched(int64_t offset, std::chrono::milliseconds timeout);

 private:
  void run();

  CommitLog& log_;
  ConsumeQueueStore& queues_;
  IndexService* index_;
  bool index_failing_ = false;  // dispatching thread only: log an index error once
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<int64_t> dispatched_{0};
  std::atomic<uint32_t> wake_seq_{0};
  // Set by the dispatching thread before it sleeps (then it re-checks wake_seq_: with
  // wake()'s increment-then-check, one of the two sees the other); cleared by the waker.
  std::atomic<bool> sleeping_{false};
  std::atomic<uint64_t> sleeper_wakeups_{0};
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
