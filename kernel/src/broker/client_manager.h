// ClientManager: producers and consumers known from heartbeats (client id -> groups and
// subscriptions, last heartbeat), with expiry of silent clients.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq::kernel {

// Threading: every method is safe from any thread (one mutex, no I/O under it).
class ClientManager {
 public:
  using Clock = std::chrono::steady_clock;

  // Records or refreshes the client. INVALID_PARAMETER for an empty client id or group.
  Status heartbeat(const HeartbeatRequest& request, Clock::time_point now);
  // True when the client was known.
  bool unregister(const std::string& client_id);
  // Live client ids that sent a heartbeat with consumer `group`, sorted.
  std::vector<std::string> consumer_ids(const std::string& group) const;
  // Removes and returns the clients whose last heartbeat is older than `ttl`.
  std::vector<std::string> expire(Clock::time_point now, std::chrono::milliseconds ttl);
  size_t client_count() const;

 private:
  struct Client {
    std::vector<std::string> producer_groups;
    std::vector<ConsumerData> consumers;
    Clock::time_point last_heartbeat;
  };
  mutable std::mutex mu_;
  std::map<std::string, Client> clients_;  // guarded by mu_
};

}  // namespace mq::kernel
