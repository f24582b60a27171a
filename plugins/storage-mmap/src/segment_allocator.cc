// SegmentAllocator: the pre-allocation loop.
#include "segment_allocator.h"

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
    auto made = segments_.get_or_create(w / size * size, warm_);
    if (!made) return made.status();
    cur = std::move(made).value();
  }
  const int64_t next = cur->end();
  if (auto f = segments_.find(next); f && f->base() == next) return Status::ok();
  auto made = segments_.get_or_create(next, warm_);
  return made ? Status::ok() : made.status();
}

void SegmentAllocator::run() {
  bool failing = false;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || pending_; });
      if (stopping_) return;
      pending_ = false;
    }
    if (Status st = ensure_next(); !st) {
      if (!failing) logger_->warn("cannot pre-allocate the next commit-log segment: {}", st.message());
      failing = true;
    } else {
      failing = false;
    }
  }
}

}  // namespace mq::storage_mmap
