// NameServerCore: the route registry (topics -> brokers -> queues), in memory only.
// Used by mqnamesrv and by a broker running with the embedded name server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "mq/broker_api.h"

namespace mq::kernel {

struct NameServerSettings {
  int64_t scan_not_active_broker_interval_ms = 5000;  // scanNotActiveBrokerInterval
  int64_t broker_channel_expired_ms = 120000;         // default expiry when a broker sends none
  // Milliseconds on a monotonic clock, used for last-update times; empty: steady_clock.
  // Tests inject a fake one and call expire_inactive() with its readings.
  std::function<int64_t()> clock_ms;
};

// Threading: every method is safe from any thread. start() runs the expiry scan thread;
// stop() joins it.
class NameServerCore final : public NameServerApi {
 public:
  NameServerCore(NameServerSettings settings, std::shared_ptr<spdlog::logger> log);
  ~NameServerCore() override;
  void start();
  void stop();

  Status register_broker(const BrokerRegistration& registration) override;
  Status unregister_broker(const std::string& cluster_name, const std::string& broker_name, int64_t broker_id,
                           const std::string& broker_addr) override;
  Result<TopicRoute> route(const std::string& topic) override;
  ClusterInfo cluster_info() override;
  std::vector<std::string> topics() override;

  // Removes brokers silent for longer than their heartbeat timeout; returns how many.
  // Called by the scan thread; public so tests can drive it with a fake clock.
  int expire_inactive(int64_t now_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::kernel
