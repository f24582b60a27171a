// LatencyFaultTolerance (RocketMQ MQFaultStrategy, simplified): remembers brokers that just
// failed or answered slowly and how long to avoid them, so queue selection skips them.
// Thread-safe; times are steady-clock milliseconds supplied by the caller (testable).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace mq::client {

// How long a broker is avoided after a send that took latency_ms (RocketMQ's tables:
// < 550 ms never, 550 ms -> 30 s, 1 s -> 60 s, 2 s -> 120 s, 3 s -> 180 s, 15 s -> 600 s).
int64_t not_available_duration_ms(int64_t latency_ms);

class LatencyFaultTolerance {
 public:
  // A failed send (isolation) makes the broker unavailable for kIsolationMs.
  static constexpr int64_t kIsolationMs = 30000;

  // Records the outcome of a send to broker that took latency_ms.
  void update(const std::string& broker, int64_t latency_ms, bool isolation, int64_t now_ms);
  bool is_available(const std::string& broker, int64_t now_ms) const;
  // Forgets a broker (a later successful fast send does this too).
  void remove(const std::string& broker);
  // The avoided broker that becomes available soonest; "" when none is avoided.
  std::string pick_one_at_least(int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> available_after_ms_;  // broker -> first ms it may be used again
};

}  // namespace mq::client
