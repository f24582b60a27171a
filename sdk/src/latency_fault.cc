// LatencyFaultTolerance implementation.
#include "latency_fault.h"

#include <array>

namespace mq::client {
namespace {
constexpr std::array<int64_t, 7> kLatencyMax = {50, 100, 550, 1000, 2000, 3000, 15000};
constexpr std::array<int64_t, 7> kNotAvailable = {0, 0, 30000, 60000, 120000, 180000, 600000};
}  // namespace

int64_t not_available_duration_ms(int64_t latency_ms) {
  for (size_t i = kLatencyMax.size(); i-- > 0;) {
    if (latency_ms >= kLatencyMax[i]) return kNotAvailable[i];
  }
  return 0;
}

void LatencyFaultTolerance::update(const std::string& broker, int64_t latency_ms, bool isolation, int64_t now_ms) {
  const int64_t duration = isolation ? kIsolationMs : not_available_duration_ms(latency_ms);
  std::lock_guard lock(mu_);
  if (duration <= 0) {
    available_after_ms_.erase(broker);
    return;
  }
  available_after_ms_[broker] = now_ms + duration;
}

bool LatencyFaultTolerance::is_available(const std::string& broker, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  auto it = available_after_ms_.find(broker);
  return it == available_after_ms_.end() || now_ms >= it->second;
}

void LatencyFaultTolerance::remove(const std::string& broker) {
  std::lock_guard lock(mu_);
  available_after_ms_.erase(broker);
}

std::string LatencyFaultTolerance::pick_one_at_least(int64_t now_ms) const {
  std::lock_guard lock(mu_);
  std::string best;
  int64_t best_after = 0;
  for (const auto& [broker, after] : available_after_ms_) {
    if (after <= now_ms) continue;
    if (best.empty() || after < best_after) {
      best = broker;
      best_after = after;
    }
  }
  return best;
}

}  // namespace mq::client
