// ClientManager: heartbeat table, expiry, group views and subscription consistency.
#include "broker/client_manager.h"

#include <algorithm>
#include <iterator>
#include <tuple>

#include "broker/group_name.h"

namespace mq::kernel {
namespace {

const ConsumerData* find_group(const std::vector<ConsumerData>& consumers, const std::string& group) {
  for (const auto& c : consumers)
    if (c.group == group) return &c;
  return nullptr;
}

std::string describe(const SubscriptionData& s) { return s.expression_type + " '" + s.expression + "'"; }

std::string topic_list(const std::map<std::string, SubscriptionData>& subs) {
  std::string out = "[";
  for (const auto& [topic, s] : subs) {
    if (out.size() > 1) out += ", ";
    out += topic;
  }
  return out + "]";
}

std::map<std::string, SubscriptionData> by_topic(const ConsumerData& c) {
  std::map<std::string, SubscriptionData> out;
  for (const auto& s : c.subscriptions) out.emplace(s.topic, s);
  return out;
}

}  // namespace

std::vector<std::string> ClientManager::consumer_groups_of(const Client& c) {
  std::vector<std::string> out;
  for (const auto& d : c.consumers) out.push_back(d.group);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ConnectionInfo ClientManager::connection_of(const std::string& id, const Client& c) {
  ConnectionInfo info;
  info.client_id = id;
  info.client_addr = c.addr;
  info.version = c.version;
  info.last_heartbeat_ms = c.last_heartbeat_ms;
  return info;
}

Status ClientManager::heartbeat(const HeartbeatRequest& request, Clock::time_point now, int64_t now_ms,
                                std::set<std::string>* membership_changed, std::set<std::string>* touched) {
  if (request.client_id.empty()) return Status::invalid("heartbeat without a client id");
  for (const auto& g : request.producer_groups)
    if (std::string why = validate_group_name(g); !why.empty())
      return Status::invalid("heartbeat of client '" + request.client_id + "': producer " + why);
  for (const auto& c : request.consumers)
    if (std::string why = validate_group_name(c.group); !why.empty())
      return Status::invalid("heartbeat of client '" + request.client_id + "': consumer " + why);
  std::lock_guard lock(mu_);
  auto [it, inserted] = clients_.try_emplace(request.client_id);
  Client& client = it->second;
  std::vector<std::string> before = inserted ? std::vector<std::string>{} : consumer_groups_of(client);
  client.addr = request.client_addr;
  client.version = request.client_version;
  client.producer_groups = request.producer_groups;
  client.consumers = request.consumers;
  client.last_heartbeat = now;
  client.last_heartbeat_ms = now_ms;
  std::vector<std::string> after = consumer_groups_of(client);
  if (membership_changed)
    std::set_symmetric_difference(before.begin(), before.end(), after.begin(), after.end(),
                                  std::inserter(*membership_changed, membership_changed->end()));
  if (touched) {
    touched->insert(before.begin(), before.end());
    touched->insert(after.begin(), after.end());
  }
  return Status::ok();
}

std::optional<ClientManager::Departure> ClientManager::unregister(const std::string& client_id) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client_id);
  if (it == clients_.end()) return std::nullopt;
  Departure d{client_id, consumer_groups_of(it->second)};
  clients_.erase(it);
  return d;
}

std::vector<std::string> ClientManager::consumer_ids(const std::string& group) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, client] : clients_)
    if (find_group(client.consumers, group)) out.push_back(id);
  return out;  // std::map iteration order: already sorted
}

std::vector<ClientManager::Departure> ClientManager::expire(Clock::time_point now, std::chrono::milliseconds ttl) {
  std::vector<Departure> expired;
  std::lock_guard lock(mu_);
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (now - it->second.last_heartbeat > ttl) {
      expired.push_back(Departure{it->first, consumer_groups_of(it->second)});
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

std::vector<std::string> ClientManager::inconsistencies_locked(const std::string& group) const {
  std::vector<std::string> out;
  const std::string* ref_id = nullptr;
  std::map<std::string, SubscriptionData> ref;
  for (const auto& [id, client] : clients_) {
    const ConsumerData* data = find_group(client.consumers, group);
    if (!data) continue;
    auto subs = by_topic(*data);
    if (!ref_id) {
      ref_id = &id;
      ref = std::move(subs);
      continue;
    }
    bool same_topics = subs.size() == ref.size() &&
                       std::equal(subs.begin(), subs.end(), ref.begin(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; });
    if (!same_topics)
      out.push_back("client '" + id + "' subscribes topics " + topic_list(subs) + " but client '" + *ref_id +
                    "' subscribes " + topic_list(ref));
    for (const auto& [topic, s] : subs) {
      auto r = ref.find(topic);
      if (r != ref.end() && !(r->second == s))
        out.push_back("client '" + id + "' subscribes topic '" + topic + "' with " + describe(s) + " but client '" +
                      *ref_id + "' with " + describe(r->second));
    }
  }
  return out;
}

std::vector<std::string> ClientManager::inconsistencies(const std::string& group) const {
  std::lock_guard lock(mu_);
  return inconsistencies_locked(group);
}

std::optional<std::vector<std::string>> ClientManager::inconsistency_change(const std::string& group) {
  std::lock_guard lock(mu_);
  std::vector<std::string> now = inconsistencies_locked(group);
  auto it = reported_.find(group);
  const bool was_reported = it != reported_.end();
  if ((was_reported && it->second == now) || (!was_reported && now.empty())) return std::nullopt;
  if (now.empty()) {
    reported_.erase(it);
  } else {
    reported_[group] = now;
  }
  return now;
}

ClientManager::GroupView ClientManager::consumer_group(const std::string& group) const {
  GroupView view;
  std::set<std::tuple<std::string, std::string, std::string>> subs;  // topic, type, expression
  Clock::time_point newest{};
  std::lock_guard lock(mu_);
  for (const auto& [id, client] : clients_) {
    const ConsumerData* data = find_group(client.consumers, group);
    if (!data) continue;
    view.connections.push_back(connection_of(id, client));
    if (!view.newest || client.last_heartbeat > newest) {
      view.newest = *data;
      newest = client.last_heartbeat;
    }
    for (const auto& s : data->subscriptions) subs.emplace(s.topic, s.expression_type, s.expression);
  }
  for (const auto& [topic, type, expression] : subs)
    view.subscriptions.push_back(SubscriptionData{topic, type, expression});
  return view;
}

std::vector<ConnectionInfo> ClientManager::producer_group(const std::string& group) const {
  std::vector<ConnectionInfo> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, client] : clients_)
    if (std::find(client.producer_groups.begin(), client.producer_groups.end(), group) != client.producer_groups.end())
      out.push_back(connection_of(id, client));
  return out;
}

}  // namespace mq::kernel
