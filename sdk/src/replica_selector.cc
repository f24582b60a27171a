// ReplicaSelector implementation.
#include "replica_selector.h"

namespace mq::client {

bool is_unreachable(const Status& status) {
  return status.code() == code::kRpcFailed;
}

bool ReplicaSelector::down_locked(const std::string& addr, Clock::time_point now) const {
  auto it = down_until_.find(addr);
  return it != down_until_.end() && now < it->second;
}

int64_t ReplicaSelector::first_live_slave_locked(const std::map<int64_t, std::string>& addrs,
                                                 Clock::time_point now) const {
  for (const auto& [id, addr] : addrs) {
    if (id != kMasterId && !down_locked(addr, now)) return id;
  }
  return -1;
}

ReplicaTarget ReplicaSelector::choose(const MessageQueue& queue, const std::map<int64_t, std::string>& addrs) const {
  if (addrs.empty()) return {};
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  auto suggestion = suggested_.find(queue);
  if (suggestion != suggested_.end()) {
    auto it = addrs.find(suggestion->second);
    if (it != addrs.end() && !down_locked(it->second, now)) return {it->first, it->second};
  }
  auto master = addrs.find(kMasterId);
  if (master != addrs.end() && !down_locked(master->second, now)) return {kMasterId, master->second};
  if (int64_t slave = first_live_slave_locked(addrs, now); slave >= 0) return {slave, addrs.at(slave)};
  // Everything is down: try the master (or the lowest slave) anyway; it may be back.
  const auto& first = master != addrs.end() ? *master : *addrs.begin();
  return {first.first, first.second};
}

ReplicaTarget ReplicaSelector::offset_target(const std::map<int64_t, std::string>& addrs) const {
  if (addrs.empty()) return {};
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  auto master = addrs.find(kMasterId);
  if (master != addrs.end() && !down_locked(master->second, now)) return {kMasterId, master->second};
  if (int64_t slave = first_live_slave_locked(addrs, now); slave >= 0) return {slave, addrs.at(slave)};
  const auto& first = master != addrs.end() ? *master : *addrs.begin();
  return {first.first, first.second};
}

void ReplicaSelector::on_suggestion(const MessageQueue& queue, int64_t broker_id) {
  std::lock_guard lock(mu_);
  if (broker_id <= kMasterId) {
    suggested_.erase(queue);
  } else {
    suggested_[queue] = broker_id;
  }
}

void ReplicaSelector::on_result(const std::string& addr, const Status& status) {
  if (addr.empty()) return;
  if (is_unreachable(status)) {
    mark_down(addr);
    return;
  }
  if (status.code() == code::kRpcTimeout) return;  // slow or paused: neither up nor down
  std::lock_guard lock(mu_);
  down_until_.erase(addr);
}

void ReplicaSelector::mark_down(const std::string& addr) {
  std::lock_guard lock(mu_);
  down_until_[addr] = Clock::now() + std::chrono::milliseconds(down_ms_);
}

bool ReplicaSelector::is_down(const std::string& addr) const {
  std::lock_guard lock(mu_);
  return down_locked(addr, Clock::now());
}

void ReplicaSelector::forget(const MessageQueue& queue) {
  std::lock_guard lock(mu_);
  suggested_.erase(queue);
}

}  // namespace mq::client
