// ClientManager: heartbeat table and expiry.
#include "broker/client_manager.h"

#include <algorithm>

#include "broker/group_name.h"

namespace mq::kernel {

Status ClientManager::heartbeat(const HeartbeatRequest& request, Clock::time_point now) {
  if (request.client_id.empty()) return Status::invalid("heartbeat without a client id");
  for (const auto& g : request.producer_groups)
    if (std::string why = validate_group_name(g); !why.empty())
      return Status::invalid("heartbeat of client '" + request.client_id + "': producer " + why);
  for (const auto& c : request.consumers)
    if (std::string why = validate_group_name(c.group); !why.empty())
      return Status::invalid("heartbeat of client '" + request.client_id + "': consumer " + why);
  std::lock_guard lock(mu_);
  Client& client = clients_[request.client_id];
  client.producer_groups = request.producer_groups;
  client.consumers = request.consumers;
  client.last_heartbeat = now;
  return Status::ok();
}

bool ClientManager::unregister(const std::string& client_id) {
  std::lock_guard lock(mu_);
  return clients_.erase(client_id) > 0;
}

std::vector<std::string> ClientManager::consumer_ids(const std::string& group) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, client] : clients_) {
    bool member = std::any_of(client.consumers.begin(), client.consumers.end(),
                              [&](const ConsumerData& c) { return c.group == group; });
    if (member) out.push_back(id);
  }
  return out;  // std::map iteration order: already sorted
}

std::vector<std::string> ClientManager::expire(Clock::time_point now, std::chrono::milliseconds ttl) {
  std::vector<std::string> expired;
  std::lock_guard lock(mu_);
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (now - it->second.last_heartbeat > ttl) {
      expired.push_back(it->first);
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

size_t ClientManager::client_count() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

}  // namespace mq::kernel
