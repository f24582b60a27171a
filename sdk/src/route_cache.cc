// RouteCache implementation.
#include "route_cache.h"

#include "replica_selector.h"
#include "topic_route.h"

namespace mq::client {

Status RouteCache::route(const std::string& topic, wire::TopicRouteResponse* out, bool force) {
  {
    std::lock_guard lock(mu_);
    auto it = routes_.find(topic);
    if (it != routes_.end() && !force &&
        std::chrono::steady_clock::now() - it->second.fetched < std::chrono::milliseconds(refresh_ms_)) {
      *out = it->second.route;
      return Status::ok();
    }
  }
  wire::TopicRouteResponse fresh;
  Status s = client_.fetch_route(topic, &fresh);
  std::lock_guard lock(mu_);
  if (!s) {
    auto it = routes_.find(topic);
    if (it == routes_.end()) return s;
    *out = it->second.route;
    return Status::ok();
  }
  routes_[topic] = Entry{fresh, std::chrono::steady_clock::now()};
  *out = std::move(fresh);
  return Status::ok();
}

std::string RouteCache::master_address(const std::string& topic, const std::string& broker_name) {
  wire::TopicRouteResponse r;
  if (!route(topic, &r)) return {};
  auto masters = master_addresses(r);
  auto it = masters.find(broker_name);
  return it == masters.end() ? std::string() : it->second;
}

std::map<int64_t, std::string> RouteCache::group_addresses(const std::string& topic, const std::string& broker_name) {
  wire::TopicRouteResponse r;
  if (!route(topic, &r)) return {};
  return client::group_addresses(r, broker_name);
}

}  // namespace mq::client
