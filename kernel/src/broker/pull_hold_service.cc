// PullHoldService: the parked-pull table.
#include "broker/pull_hold_service.h"

namespace mq::kernel {

PullHoldService::PullHoldService(WakeFn on_wake) : on_wake_(std::move(on_wake)) {}

bool PullHoldService::park(HeldPull& pull) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  parked_[key(pull.request.topic, pull.request.queue_id)].push_back(std::move(pull));
  ++count_;
  return true;
}

void PullHoldService::notify(const std::string& topic, QueueId queue_id, QueueOffset next_offset,
                             std::optional<int64_t> tag_hash) {
  std::lock_guard lock(mu_);
  if (closed_ || count_ == 0) return;
  auto it = parked_.find(key(topic, queue_id));
  if (it == parked_.end()) return;
  auto& pulls = it->second;
  size_t kept = 0;
  for (size_t i = 0; i < pulls.size(); ++i) {
    HeldPull& p = pulls[i];
    bool wake = p.wake_on_arrival && next_offset > p.request.queue_offset &&
                (!tag_hash || !p.filter || p.filter->match_tag_hash(*tag_hash));
    if (wake) {
      --count_;
      on_wake_(std::move(p));
    } else {
      if (kept != i) pulls[kept] = std::move(p);
      ++kept;
    }
  }
  pulls.resize(kept);
  if (pulls.empty()) parked_.erase(it);
}

std::vector<HeldPull> PullHoldService::take_expired(HeldPull::Clock::time_point now) {
  std::vector<HeldPull> out;
  std::lock_guard lock(mu_);
  for (auto it = parked_.begin(); it != parked_.end();) {
    auto& pulls = it->second;
    size_t kept = 0;
    for (size_t i = 0; i < pulls.size(); ++i) {
      if (pulls[i].deadline <= now) {
        out.push_back(std::move(pulls[i]));
      } else {
        if (kept != i) pulls[kept] = std::move(pulls[i]);
        ++kept;
      }
    }
    pulls.resize(kept);
    it = pulls.empty() ? parked_.erase(it) : std::next(it);
  }
  count_ -= out.size();
  return out;
}

std::vector<HeldPull> PullHoldService::close() {
  std::vector<HeldPull> out;
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& [k, pulls] : parked_)
    for (auto& p : pulls) out.push_back(std::move(p));
  parked_.clear();
  count_ = 0;
  return out;
}

size_t PullHoldService::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

}  // namespace mq::kernel
