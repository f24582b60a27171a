// ProcessQueue implementation.
#include "process_queue.h"

#include <algorithm>

namespace mq::client {

size_t ProcessQueue::put(const std::vector<MessageExt>& messages, int64_t next_begin_offset) {
  std::lock_guard lock(mu_);
  size_t added = 0;
  for (const auto& m : messages) {
    auto size = static_cast<int64_t>(m.body().size());
    if (held_.emplace(m.queue_offset(), size).second) {
      bytes_ += size;
      ++added;
    }
    max_put_offset_ = std::max(max_put_offset_, m.queue_offset());
  }
  frontier_ = std::max({frontier_, next_begin_offset, max_put_offset_ + 1 > 0 ? max_put_offset_ + 1 : -1});
  return added;
}

int64_t ProcessQueue::remove(const std::vector<int64_t>& queue_offsets) {
  std::lock_guard lock(mu_);
  for (int64_t offset : queue_offsets) {
    auto it = held_.find(offset);
    if (it == held_.end()) continue;
    bytes_ -= it->second;
    held_.erase(it);
  }
  return commit_offset_locked();
}

int64_t ProcessQueue::commit_offset() const {
  std::lock_guard lock(mu_);
  return commit_offset_locked();
}

int64_t ProcessQueue::commit_offset_locked() const {
  if (!held_.empty()) return held_.begin()->first;
  return frontier_;
}

void ProcessQueue::reset_frontier(int64_t offset) {
  std::lock_guard lock(mu_);
  frontier_ = offset;
  max_put_offset_ = std::min(max_put_offset_, offset - 1);
}

size_t ProcessQueue::message_count() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

int64_t ProcessQueue::message_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

int64_t ProcessQueue::offset_span() const {
  std::lock_guard lock(mu_);
  return held_.size() < 2 ? 0 : held_.rbegin()->first - held_.begin()->first;
}

}  // namespace mq::client
