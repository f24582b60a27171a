// Background segment allocator (RocketMQ's AllocateMappedFileService): keeps the commit-log
// segment after the one being written created (fallocate'd), so appends roll over without
// creating a file under the put lock; with `warm_ahead`, also keeps the pages in a window ahead
// of the write position pre-faulted (kWarmAhead), so appends take no page fault; with
// `cache_behind`, drops flushed pages that far behind the flushed position from the page cache.
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
  struct Windows {
    bool warm_ahead = false;   // warmMapedFileEnable through the mapping
    int64_t cache_behind = 0;  // commitLogPageCacheMiB in bytes; 0: off
  };
  // `write_pos` / `flushed_pos`: the log's positions, read from the allocator thread.
  SegmentAllocator(MappedFileQueue& segments, std::function<int64_t()> write_pos, std::function<int64_t()> flushed_pos,
                   Windows windows, std::shared_ptr<spdlog::logger> logger)
      : segments_(segments),
        write_pos_(std::move(write_pos)),
        flushed_pos_(std::move(flushed_pos)),
        windows_(windows),
        logger_(std::move(logger)) {}
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
  // The commit-log offset pages are pre-faulted up to (0 without `warm_ahead`). Any thread.
  int64_t warmed_to() const noexcept { return warmed_to_.load(std::memory_order_acquire); }
  // Drops from the page cache the pages of what lies more than `cache_behind` below the
  // flushed position, in steps (cache_step()) that it has not dropped yet. Only flushed
  // (clean) pages are dropped, so nothing waits for a disk write; a reader of those bytes
  // faults them back in from the disk. Why: on a VM that reports freed memory to its host
  // (virtio-balloon free page reporting) every page-cache page written for the first time
  // costs a host fault, several times the copy into it; memory the log frees itself is
  // taken again by its next writes before it is reported. Anywhere, the log's page cache
  // stays bounded and the writers never run into reclaim. Allocator thread only.
  void drop_behind();
  int64_t cache_step() const noexcept;
  // The commit-log offset below which the page cache was last dropped (0: never). Any thread.
  int64_t cache_dropped_to() const noexcept { return dropped_to_.load(std::memory_order_acquire); }

 private:
  void run();

  MappedFileQueue& segments_;
  std::function<int64_t()> write_pos_;
  std::function<int64_t()> flushed_pos_;
  Windows windows_;
  std::atomic<int64_t> warmed_to_{0};   // written by the allocator thread only
  std::atomic<int64_t> dropped_to_{0};  // written by the allocator thread only
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;  // guards pending_, stopping_
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mq::storage_mmap
