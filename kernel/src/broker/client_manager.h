// ClientManager: producers and consumers known from heartbeats (client id -> address,
// version, groups and subscriptions, last heartbeat), with expiry of silent clients and
// detection of consumer-group members whose subscriptions differ.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq::kernel {

// Threading: every method is safe from any thread (one mutex, no I/O under it).
class ClientManager {
 public:
  using Clock = std::chrono::steady_clock;

  // A removed client and the consumer groups it was a member of.
  struct Departure {
    std::string client_id;
    std::vector<std::string> consumer_groups;
  };

  // Records or refreshes the client. INVALID_PARAMETER for an empty client id or group.
  // `membership_changed` receives the consumer groups the client joined or left with this
  // heartbeat; `touched` every consumer group whose member data may have changed.
  Status heartbeat(const HeartbeatRequest& request, Clock::time_point now, int64_t now_ms,
                   std::set<std::string>* membership_changed = nullptr, std::set<std::string>* touched = nullptr);
  // The client's consumer groups when it was known, else nullopt.
  std::optional<Departure> unregister(const std::string& client_id);
  // Live client ids that sent a heartbeat with consumer `group`, sorted.
  std::vector<std::string> consumer_ids(const std::string& group) const;
  // Removes and returns the clients whose last heartbeat is older than `ttl`.
  std::vector<Departure> expire(Clock::time_point now, std::chrono::milliseconds ttl);
  size_t client_count() const;

  // Readable descriptions of members of `group` whose subscriptions differ from those of
  // the first member (by client id); empty when consistent.
  std::vector<std::string> inconsistencies(const std::string& group) const;
  // The group's inconsistencies when they differ from the last value returned here for the
  // group (so a caller logs each change once), else nullopt.
  std::optional<std::vector<std::string>> inconsistency_change(const std::string& group);

  // The live members of a consumer group; an empty `connections` means none. `newest` is
  // the group's consumer data from the member that sent the latest heartbeat.
  struct GroupView {
    std::vector<ConnectionInfo> connections;  // sorted by client id
    std::optional<ConsumerData> newest;       // from the most recent heartbeat
    std::vector<SubscriptionData> subscriptions;  // union over members, sorted
  };
  GroupView consumer_group(const std::string& group) const;
  std::vector<ConnectionInfo> producer_group(const std::string& group) const;  // sorted by client id

 private:
  struct Client {
    std::string addr;
    int32_t version = 0;
    std::vector<std::string> producer_groups;
    std::vector<ConsumerData> consumers;
    Clock::time_point last_heartbeat;
    int64_t last_heartbeat_ms = 0;  // wall clock, for display
  };
  static std::vector<std::string> consumer_groups_of(const Client& c);
  static ConnectionInfo connection_of(const std::string& id, const Client& c);
  std::vector<std::string> inconsistencies_locked(const std::string& group) const;  // requires mu_

  mutable std::mutex mu_;
  std::map<std::string, Client> clients_;                      // guarded by mu_
  std::map<std::string, std::vector<std::string>> reported_;   // group -> last inconsistencies returned; mu_
};

}  // namespace mq::kernel
