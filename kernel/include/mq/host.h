// HostContext: the only way back from a plugin into the kernel (identity, logging,
// configuration, paths).
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "mq/message.h"

namespace mq {

// The broker's identity and shared settings, read from the config's global keys.
struct BrokerIdentity {
  std::string cluster_name = "DefaultCluster";  // brokerClusterName
  std::string broker_name = "broker-a";         // brokerName
  int64_t broker_id = 0;                        // brokerId: 0 master, >0 slave
  std::string store_root;                       // storePathRootDir
  HostAddress broker_address;                   // brokerIP1 + listenPort, stored in records
};

// Threading: every method is safe from any thread. Lifetime: outlives every plugin.
class BOOST_SYMBOL_VISIBLE HostContext {
 public:
  virtual ~HostContext() = default;
  virtual const BrokerIdentity& identity() const = 0;
  // A logger named after `component` (e.g. "storage-mmap"), sharing the kernel's sinks.
  // Plugins must not register loggers in spdlog's global registry.
  virtual std::shared_ptr<spdlog::logger> logger(const std::string& component) = 0;
};

}  // namespace mq
