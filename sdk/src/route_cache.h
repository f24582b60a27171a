// RouteCache: topic routes fetched from the name servers on demand and kept for a refresh
// interval (a failed refresh keeps serving the stale route). Thread-safe; no lock held during I/O.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "client_instance.h"

namespace mq::client {

class RouteCache {
 public:
  RouteCache(ClientInstance& client, int refresh_ms) : client_(client), refresh_ms_(refresh_ms) {}
  Status route(const std::string& topic, wire::TopicRouteResponse* out, bool force = false);
  // Master address of broker_name in topic's route, "" when unknown.
  std::string master_address(const std::string& topic, const std::string& broker_name);
  // Every address of the broker group broker_name (id -> address; 0 the master), {} when unknown.
  std::map<int64_t, std::string> group_addresses(const std::string& topic, const std::string& broker_name);

 private:
  struct Entry {
    wire::TopicRouteResponse route;
    std::chrono::steady_clock::time_point fetched;
  };
  ClientInstance& client_;
  const int refresh_ms_;
  std::mutex mu_;
  std::map<std::string, Entry> routes_;
};

}  // namespace mq::client
