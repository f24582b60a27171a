// QueueLockManager: lock table with expiry on read (no timer needed).
#include "broker/queue_lock_manager.h"

#include <algorithm>

namespace mq::kernel {

std::vector<QueueRef> QueueLockManager::lock_batch(const std::string& group, const std::string& client_id,
                                                   const std::vector<QueueRef>& queues, Clock::time_point now) {
  std::vector<QueueRef> held;
  std::lock_guard lock(mu_);
  auto& locks = table_[group];
  for (const QueueRef& q : queues) {
    auto [it, inserted] = locks.try_emplace(q, Entry{client_id, now});
    Entry& e = it->second;
    if (!inserted) {
      const bool expired = now - e.last_renewal > max_live_;
      if (e.client_id != client_id && !expired) continue;
      e.client_id = client_id;
      e.last_renewal = now;
    }
    held.push_back(q);
  }
  if (locks.empty()) table_.erase(group);
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
  return held;
}

void QueueLockManager::unlock_batch(const std::string& group, const std::string& client_id,
                                    const std::vector<QueueRef>& queues) {
  std::lock_guard lock(mu_);
  auto g = table_.find(group);
  if (g == table_.end()) return;
  for (const QueueRef& q : queues) {
    auto it = g->second.find(q);
    if (it != g->second.end() && it->second.client_id == client_id) g->second.erase(it);
  }
  if (g->second.empty()) table_.erase(g);
}

size_t QueueLockManager::release_client(const std::string& client_id) {
  size_t released = 0;
  std::lock_guard lock(mu_);
  for (auto g = table_.begin(); g != table_.end();) {
    released += std::erase_if(g->second, [&](const auto& kv) { return kv.second.client_id == client_id; });
    g = g->second.empty() ? table_.erase(g) : std::next(g);
  }
  return released;
}

void QueueLockManager::release_topic(const std::string& topic) {
  std::lock_guard lock(mu_);
  for (auto g = table_.begin(); g != table_.end();) {
    std::erase_if(g->second, [&](const auto& kv) { return kv.first.topic == topic; });
    g = g->second.empty() ? table_.erase(g) : std::next(g);
  }
}

std::optional<std::string> QueueLockManager::owner(const std::string& group, const QueueRef& queue,
                                                   Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto g = table_.find(group);
  if (g == table_.end()) return std::nullopt;
  auto it = g->second.find(queue);
  if (it == g->second.end() || now - it->second.last_renewal > max_live_) return std::nullopt;
  return it->second.client_id;
}

size_t QueueLockManager::size() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [group, locks] : table_) n += locks.size();
  return n;
}

}  // namespace mq::kernel
