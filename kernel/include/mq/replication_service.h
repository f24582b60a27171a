// ReplicationService: what the ha-sync plugin tells the kernel and admin tools about
// master/slave replication (role, per-slave acknowledged offsets and lag). The kernel
// merges runtime_info() into BrokerApi::runtime_info. Without the plugin a broker is a
// master without replication.
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <map>
#include <string>
#include <string_view>

namespace mq {

// Threading: safe from any thread; never blocks on disk or network.
class BOOST_SYMBOL_VISIBLE ReplicationService {
 public:
  static constexpr std::string_view kServiceName = "Replication";
  virtual ~ReplicationService() = default;
  // "ASYNC_MASTER", "SYNC_MASTER" or "SLAVE".
  virtual std::string role() const = 0;
  // Keys prefixed "ha" (e.g. haRole, haSlaveCount, haSlave.<id>.ackedOffset,
  // haSlave.<id>.lag; on a slave haMasterAddress, haConnected, haLag).
  virtual std::map<std::string, std::string> runtime_info() const = 0;
};

}  // namespace mq
