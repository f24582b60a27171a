// SegmentAllocator: the pre-allocation loop, the warm window ahead and the page cache behind.
#include "segment_allocator.h"

#include <algorithm>

namespace mq::storage_mmap {

void SegmentAllocator::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
    pending_ = true;  // make the first spare right away
  }
  thread_ = std::thread([this] { run(); });
}

void SegmentAllocator::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SegmentAllocator::request() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

Status SegmentAllocator::ensure_next() {
  const int64_t w = write_pos_();
  auto cur = segments_.find(w);
  if (!cur) {  // an empty log: make its first segment
    const int64_t size = segments_.file_size();
    auto made = segments_.get_or_create(w / size * size);
    if (!made) return made.status();
    cur = std::move(made).value();
  }
  const int64_t next = cur->end();
  if (auto f = segments_.find(next); f && f->base() == next) return Status::ok();
  auto made = segments_.get_or_create(next);
  return made ? Status::ok() : made.status();
}

void SegmentAllocator::warm_ahead() {
  const int64_t w = write_pos_();
  const int64_t target = w + kWarmAhead;
  int64_t warmed = warmed_to_.load(std::memory_order_relaxed);
  if (warmed > target) warmed = w;  // the log was truncated back: its files may be new
  int64_t from = std::max(warmed, w);
  while (from < target) {
    auto seg = segments_.find(from);
    if (!seg || seg->base() > from) break;  // the next segment is not there yet
    // In steps, so the window's front is published as it moves.
    const int64_t to = std::min({seg->end(), target, from + (int64_t{16} << 20)});
    seg->warm_range(from - seg->base(), to - seg->base());
    from = to;
    warmed_to_.store(to, std::memory_order_release);
  }
}

int64_t SegmentAllocator::cache_step() const noexcept {
  constexpr int64_t kMaxStep = int64_t{64} << 20;  // few calls, yet reused before it is reported
  constexpr int64_t kMinStep = int64_t{64} << 10;
  return std::clamp(windows_.cache_behind / 4, kMinStep, kMaxStep);
}

void SegmentAllocator::drop_behind() {
  const int64_t step = cache_step();
  const int64_t below = (flushed_pos_() - windows_.cache_behind) / step * step;
  int64_t dropped = dropped_to_.load(std::memory_order_relaxed);
  if (below < dropped) {  // the log was truncated back: what is written again is dropped again
    dropped_to_.store(std::max<int64_t>(below, 0), std::memory_order_release);
    return;
  }
  if (below == dropped) return;
  segments_.drop_cache(std::max(dropped, segments_.min_offset(0)), below);
  dropped_to_.store(below, std::memory_order_release);
}

void SegmentAllocator::run() {
  bool failing = false;
  // With warm pages the window must move with the writes: look every few milliseconds (a
  // 256 MiB window lasts ~250 ms at 1 GB/s); the page cache behind is looked at ten times a
  // second (freed memory is reported to a VM's host after 2 s); otherwise only on request.
  const auto period = windows_.warm_ahead     ? std::chrono::milliseconds(5)
                      : windows_.cache_behind ? std::chrono::milliseconds(100)
                                              : std::chrono::milliseconds(1000);
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, period, [&] { return stopping_ || pending_; });
      if (stopping_) return;
      pending_ = false;
    }
    if (Status st = ensure_next(); !st) {
      if (!failing) logger_->warn("cannot pre-allocate the next commit-log segment: {}", st.message());
      failing = true;
    } else {
      failing = false;
    }
    if (windows_.warm_ahead) warm_ahead();
    if (windows_.cache_behind > 0) drop_behind();
  }
}

}  // namespace mq::storage_mmap
