// QueueLockManager: broker-side queue locks of orderly consumers (RocketMQ
// RebalanceLockManager): per (group, topic, queue) the owning client id and its last renewal.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mq/broker_api.h"

namespace mq::kernel {

// Threading: every method is safe from any thread (one mutex, no I/O under it).
// Invariant: an entry whose last renewal is older than max_live is free for anyone.
class QueueLockManager {
 public:
  using Clock = std::chrono::steady_clock;
  explicit QueueLockManager(std::chrono::milliseconds max_live) : max_live_(max_live) {}

  // Locks (or renews) every queue that is free, expired or already held by `client_id`;
  // returns the requested queues `client_id` holds afterwards, sorted.
  std::vector<QueueRef> lock_batch(const std::string& group, const std::string& client_id,
                                   const std::vector<QueueRef>& queues, Clock::time_point now);
  // Releases the queues held by `client_id`; others' locks are untouched.
  void unlock_batch(const std::string& group, const std::string& client_id, const std::vector<QueueRef>& queues);
  // Releases every lock of `client_id` in every group; returns how many.
  size_t release_client(const std::string& client_id);
  // Drops every lock on `topic` (the topic was deleted).
  void release_topic(const std::string& topic);
  // The live owner of a queue, if any.
  std::optional<std::string> owner(const std::string& group, const QueueRef& queue, Clock::time_point now) const;
  size_t size() const;

 private:
  struct Entry {
    std::string client_id;
    Clock::time_point last_renewal;
  };
  const std::chrono::milliseconds max_live_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<QueueRef, Entry>> table_;  // group -> queue -> lock; mu_
};

}  // namespace mq::kernel
