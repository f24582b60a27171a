// SyncWaiters (see sync_waiters.h).
#include "sync_waiters.h"

namespace mq::ha {

SyncWaiters::Added SyncWaiters::add(int64_t end, Clock::time_point deadline, Done& done) {
  std::lock_guard lock(mu_);
  if (closed_) return Added::kClosed;
  if (acked_ >= end) return Added::kAlreadyAcked;
  by_end_.emplace(end, Waiter{deadline, std::move(done)});
  return Added::kHeld;
}

std::vector<SyncWaiters::Done> SyncWaiters::acked(int64_t offset) {
  std::vector<Done> out;
  std::lock_guard lock(mu_);
  if (offset > acked_) acked_ = offset;
  auto stop = by_end_.upper_bound(acked_);
  for (auto it = by_end_.begin(); it != stop; ++it) out.push_back(std::move(it->second.done));
  by_end_.erase(by_end_.begin(), stop);
  return out;
}

std::vector<SyncWaiters::Done> SyncWaiters::take_expired(Clock::time_point now) {
  std::vector<Done> out;
  std::lock_guard lock(mu_);
  for (auto it = by_end_.begin(); it != by_end_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    out.push_back(std::move(it->second.done));
    it = by_end_.erase(it);
  }
  return out;
}

std::vector<SyncWaiters::Done> SyncWaiters::take_all() {
  std::vector<Done> out;
  std::lock_guard lock(mu_);
  for (auto& [end, w] : by_end_) out.push_back(std::move(w.done));
  by_end_.clear();
  return out;
}

std::vector<SyncWaiters::Done> SyncWaiters::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  return take_all();
}

int64_t SyncWaiters::highest_acked() const {
  std::lock_guard lock(mu_);
  return acked_;
}

size_t SyncWaiters::size() const {
  std::lock_guard lock(mu_);
  return by_end_.size();
}

}  // namespace mq::ha
