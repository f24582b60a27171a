// All consume queues of a store: consumequeue/<topic>/<queueId>/, created on first use.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "consume_queue.h"
#include "mq/status.h"

namespace mq::storage_mmap {

// Threading: find/find_or_create/all are safe from any thread; each queue's writes come
// from the dispatcher only. A queue, once made, is never removed; load() replaces them all
// and moves generation() (the dispatcher caches queues until it moves).
class ConsumeQueueStore {
 public:
  ConsumeQueueStore(std::string dir, int64_t file_size) : dir_(std::move(dir)), file_size_(file_size) {}

  // Loads every <topic>/<queueId> directory. Sets existed() to whether dir() was there.
  Status load();
  bool existed() const noexcept { return existed_; }
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  const std::string& dir() const noexcept { return dir_; }

  std::shared_ptr<ConsumeQueue> find(const std::string& topic, QueueId queue_id) const;
  std::shared_ptr<ConsumeQueue> find_or_create(const std::string& topic, QueueId queue_id);
  std::vector<std::shared_ptr<ConsumeQueue>> all() const;

 private:
  std::string dir_;
  int64_t file_size_;
  bool existed_ = false;
  std::atomic<uint64_t> generation_{0};
  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, QueueId>, std::shared_ptr<ConsumeQueue>, std::less<>> queues_;  // guarded by mu_
};

}  // namespace mq::storage_mmap
