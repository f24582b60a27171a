// ReplicaSelector: which broker of a broker group (the master, brokerId 0, or one of its
// slaves, brokerId > 0) a consumer reads a queue from and commits offsets to.
//
// Rules (docs/configuration.md "Reading from slaves"):
//  - reads go to the master; a queue follows the broker's suggestion (PullResponse
//    suggestWhichBrokerId: the master says "read from slave N" when the consumer is far
//    behind, a slave says "back to the master" when it is not) as long as that broker is in the
//    route and reachable;
//  - a broker whose connection was refused or reset is "down" for down_ms; while the master is
//    down or missing from the route, reads go to the lowest reachable slave id. After down_ms
//    the master is tried again, so reads move back to it once it returns;
//  - offsets are committed to the master; while it is down they are also written to the
//    slave the consumer reads from (so a restart during the outage resumes there) and stay
//    pending until the master has them.
// Thread-safe; no lock held while calling out.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "mq/client/message.h"
#include "mq/client/status.h"

namespace mq::client {

inline constexpr int64_t kMasterId = 0;

// One broker of a group: its id and address ("" and id -1 when the group has none).
struct ReplicaTarget {
  int64_t broker_id = -1;
  std::string addr;
  bool empty() const { return addr.empty(); }
  bool is_master() const { return broker_id == kMasterId; }
};

// True for a call failure that says the broker process is not there (connection refused,
// reset or closed): kRpcFailed. Timeouts (a slow or paused broker) do not count.
bool is_unreachable(const Status& status);

class ReplicaSelector {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int64_t kDefaultDownMs = 3000;

  explicit ReplicaSelector(int64_t down_ms = kDefaultDownMs) : down_ms_(down_ms) {}

  // Where to read `queue` from; `addrs` is its broker group (id -> address) from the route.
  ReplicaTarget choose(const MessageQueue& queue, const std::map<int64_t, std::string>& addrs) const;
  // Where offsets go: the master when it is in the route and not down, else the lowest
  // reachable slave, else the master (or the lowest slave) anyway.
  ReplicaTarget offset_target(const std::map<int64_t, std::string>& addrs) const;

  // The pull answer's suggestWhichBrokerId for the queue's next pulls (0: the master).
  void on_suggestion(const MessageQueue& queue, int64_t broker_id);
  // A call to addr failed / succeeded; `status` decides whether it counts as unreachable.
  void on_result(const std::string& addr, const Status& status);
  void mark_down(const std::string& addr);
  bool is_down(const std::string& addr) const;
  void forget(const MessageQueue& queue);

 private:
  bool down_locked(const std::string& addr, Clock::time_point now) const;
  // The lowest id >= 1 whose address is not down; -1 if none.
  int64_t first_live_slave_locked(const std::map<int64_t, std::string>& addrs, Clock::time_point now) const;

  const int64_t down_ms_;
  mutable std::mutex mu_;
  std::map<std::string, Clock::time_point> down_until_;  // address -> end of its down period
  std::map<MessageQueue, int64_t> suggested_;            // queue -> suggested broker id (absent: 0)
};

// The broker group `broker_name` (id -> address) in a route; empty when absent.
template <typename Route>
std::map<int64_t, std::string> group_addresses(const Route& route, const std::string& broker_name) {
  std::map<int64_t, std::string> out;
  for (const auto& broker : route.brokers) {
    if (broker.brokerName != broker_name) continue;
    for (const auto& [id, addr] : broker.brokerAddrs) {
      if (!addr.empty()) out[id] = addr;
    }
  }
  return out;
}

}  // namespace mq::client
