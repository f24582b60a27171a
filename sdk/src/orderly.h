// Orderly consumption bookkeeping: QueueLockTable (which queues this client holds a broker-side
// lock on, and since when) and OrderlyBuffer (the pulled messages of one queue handed to the
// listener strictly in offset order, one batch at a time, with rollback for
// SUSPEND_CURRENT_QUEUE_A_MOMENT). Both are thread-safe; times are caller-supplied ms.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "mq/client/message.h"

namespace mq::client {

class QueueLockTable {
 public:
  // A lock not renewed within this time is treated as lost (RocketMQ client's 30 s; the broker
  // keeps it 60 s, so a client stops consuming well before another may start).
  static constexpr int64_t kLockMaxLiveMs = 30000;

  // Records a lockBatchMQ answer: `locked` are held from now_ms; the other `requested` are not.
  void on_lock_result(const std::vector<MessageQueue>& requested, const std::vector<MessageQueue>& locked,
                      int64_t now_ms);
  bool is_locked(const MessageQueue& queue, int64_t now_ms) const;
  void forget(const MessageQueue& queue);
  std::vector<MessageQueue> held() const;  // every queue ever locked and not forgotten

 private:
  mutable std::mutex mu_;
  std::map<MessageQueue, int64_t> locked_at_ms_;  // absent: not locked
};

class OrderlyBuffer {
 public:
  // Adds messages not already buffered or being consumed.
  void put(const std::vector<MessageExt>& messages);
  // Up to max messages with the smallest offsets; they stay "consuming" until commit or rollback.
  // Empty while a batch is being consumed (one batch at a time).
  std::vector<MessageExt> take(size_t max);
  // The consuming batch succeeded: returns its offsets and forgets it.
  std::vector<int64_t> commit();
  // The consuming batch must be retried: it becomes the next batch again.
  void rollback();
  // The consuming batch failed: the messages at `gone` (sent to the DLQ or skipped) are
  // forgotten, the others count one more reconsume and become the next batch again.
  void retry_later(const std::vector<int64_t>& gone);
  size_t size() const;  // buffered, not counting the consuming batch
  bool consuming() const;

 private:
  mutable std::mutex mu_;
  std::map<int64_t, MessageExt> buffered_;
  std::map<int64_t, MessageExt> consuming_;
};

}  // namespace mq::client
