// LitePullOffsets implementation.
#include "lite_pull_offsets.h"

namespace mq::client {

std::vector<MessageQueue> LitePullOffsets::assign(const std::set<MessageQueue>& queues) {
  std::lock_guard lock(mu_);
  std::vector<MessageQueue> removed;
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    if (queues.count(it->first) == 0) {
      removed.push_back(it->first);
      it = cursors_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& q : queues) cursors_.try_emplace(q);
  return removed;
}

std::vector<MessageQueue> LitePullOffsets::queues() const {
  std::lock_guard lock(mu_);
  std::vector<MessageQueue> out;
  for (const auto& [q, c] : cursors_) out.push_back(q);
  return out;
}

bool LitePullOffsets::contains(const MessageQueue& q) const {
  std::lock_guard lock(mu_);
  return cursors_.count(q) != 0;
}

int64_t LitePullOffsets::next_pull(const MessageQueue& q) const {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(q);
  return it == cursors_.end() ? -1 : it->second.next_pull;
}

void LitePullOffsets::set_next_pull(const MessageQueue& q, int64_t offset) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(q);
  if (it != cursors_.end()) it->second.next_pull = offset;
}

void LitePullOffsets::seek(const MessageQueue& q, int64_t offset) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(q);
  if (it == cursors_.end()) return;
  it->second.next_pull = offset;
  it->second.consumed = offset;
}

void LitePullOffsets::on_returned(const MessageQueue& q, int64_t last_offset) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(q);
  if (it != cursors_.end() && last_offset + 1 > it->second.consumed) it->second.consumed = last_offset + 1;
}

std::map<MessageQueue, int64_t> LitePullOffsets::to_commit() const {
  std::lock_guard lock(mu_);
  std::map<MessageQueue, int64_t> out;
  for (const auto& [q, c] : cursors_) {
    if (c.consumed >= 0 && c.consumed != c.committed) out.emplace(q, c.consumed);
  }
  return out;
}

void LitePullOffsets::mark_committed(const MessageQueue& q, int64_t offset) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(q);
  if (it != cursors_.end()) it->second.committed = offset;
}

}  // namespace mq::client
