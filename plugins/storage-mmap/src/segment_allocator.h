// Background segment allocator (RocketMQ's AllocateMappedFileService): keeps the commit-log
// segment after the one being written created (fallocate'd), so appends roll over without
// creating a file under the put lock; with `warm`, also keeps the pages in a window ahead of
// the write position pre-faulted (kWarmAhead), so appends take no page fault.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/logger.h>

#include "mapped_file_queue.h"

namespace mq::storage_mmap {

// Threading: one allocator thread between start() and stop(); request() from any thread
// never blocks on I/O.
class SegmentAllocator {
 public:
  SegmentAllocator(MappedFileQueue& segments, std::function<int64_t()> write_pos, bool warm,
                   std::shared_ptr<spdlog::logger> logger)
      : segments_(segments), write_pos_(std::move(write_pos)), warm_(warm), logger_(std::move(logger)) {}
  ~SegmentAllocator() { stop(); }

  void start();
  void stop();
  void request();
  // Creates the segment after the one holding the write position when it is missing.
  Status ensure_next();
  // Pre-faults what is not yet faulted of [write position, write position + kWarmAhead).
  // Pages are faulted in as the log reaches them, not a whole segment at its creation: the
  // cost follows what is written and a new 1 GiB segment does not take 1 GiB of page cache
  // (and a burst of zeroing) at once. Allocator thread only.
  void warm_ahead();
  static constexpr int64_t kWarmAhead = int64_t{256} << 20;
  // The commit-log offset pages are pre-faulted up to (0 without `warm`). Any thread.
  int64_t warmed_to() const noexcept { return warmed_to_.load(std::memory_order_acquire); }

 private:
  void run();

  MappedFileQueue& segments_;
  std::function<int64_t()> write_pos_;
  bool warm_;
  std::atomic<int64_t> warmed_to_{0};  // written by the allocator thread only
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;  // guards pending_, stopping_
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mq::storage_mmap
