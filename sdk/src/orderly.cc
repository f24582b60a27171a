// QueueLockTable and OrderlyBuffer implementation.
#include "orderly.h"

#include <algorithm>

namespace mq::client {

void QueueLockTable::on_lock_result(const std::vector<MessageQueue>& requested, const std::vector<MessageQueue>& locked,
                                    int64_t now_ms) {
  std::lock_guard lock(mu_);
  for (const auto& q : requested) {
    if (std::find(locked.begin(), locked.end(), q) == locked.end()) locked_at_ms_.erase(q);
  }
  for (const auto& q : locked) locked_at_ms_[q] = now_ms;
}

bool QueueLockTable::is_locked(const MessageQueue& queue, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  auto it = locked_at_ms_.find(queue);
  return it != locked_at_ms_.end() && now_ms - it->second < kLockMaxLiveMs;
}

void QueueLockTable::forget(const MessageQueue& queue) {
  std::lock_guard lock(mu_);
  locked_at_ms_.erase(queue);
}

std::vector<MessageQueue> QueueLockTable::held() const {
  std::lock_guard lock(mu_);
  std::vector<MessageQueue> out;
  for (const auto& [q, at] : locked_at_ms_) out.push_back(q);
  return out;
}

void OrderlyBuffer::put(const std::vector<MessageExt>& messages) {
  std::lock_guard lock(mu_);
  for (const auto& m : messages) {
    if (consuming_.count(m.queue_offset()) == 0) buffered_.emplace(m.queue_offset(), m);
  }
}

std::vector<MessageExt> OrderlyBuffer::take(size_t max) {
  std::lock_guard lock(mu_);
  std::vector<MessageExt> out;
  if (!consuming_.empty()) return out;
  while (out.size() < max && !buffered_.empty()) {
    auto node = buffered_.extract(buffered_.begin());
    out.push_back(node.mapped());
    consuming_.insert(std::move(node));
  }
  return out;
}

std::vector<int64_t> OrderlyBuffer::commit() {
  std::lock_guard lock(mu_);
  std::vector<int64_t> offsets;
  for (const auto& [offset, m] : consuming_) offsets.push_back(offset);
  consuming_.clear();
  return offsets;
}

void OrderlyBuffer::rollback() {
  std::lock_guard lock(mu_);
  buffered_.merge(consuming_);
  consuming_.clear();
}

void OrderlyBuffer::retry_later(const std::vector<int64_t>& gone) {
  std::lock_guard lock(mu_);
  for (int64_t offset : gone) consuming_.erase(offset);
  for (auto& [offset, m] : consuming_) m.set_reconsume_times(m.reconsume_times() + 1);
  buffered_.merge(consuming_);
  consuming_.clear();
}

size_t OrderlyBuffer::size() const {
  std::lock_guard lock(mu_);
  return buffered_.size();
}

bool OrderlyBuffer::consuming() const {
  std::lock_guard lock(mu_);
  return !consuming_.empty();
}

}  // namespace mq::client
