// The ha-sync options ("ha-sync.<key>"), their defaults and validation.
#pragma once

#include <cstdint>
#include <string>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace mq::ha {

inline constexpr const char* kPluginName = "ha-sync";

enum class Role { kAsyncMaster, kSyncMaster, kSlave };
const char* role_name(Role role) noexcept;

struct HaOptions {
  Role role = Role::kAsyncMaster;                     // brokerRole
  uint16_t listen_port = 0;                           // haListenPort (master; 0: ephemeral, see <storeRoot>/ha.port)
  std::string listen_address = "0.0.0.0";             // haListenAddress (master)
  std::string master_address;                         // haMasterAddress host:port (slave)
  int64_t heartbeat_interval_ms = 5000;               // haSendHeartbeatInterval
  int64_t housekeeping_interval_ms = 20000;           // haHousekeepingInterval: drop a silent connection
  int64_t slave_fallbehind_max = int64_t{256} << 20;  // haSlaveFallbehindMax (bytes)
  int64_t sync_timeout_ms = 3000;                     // haSyncTimeoutMs: SYNC_MASTER wait -> FLUSH_SLAVE_TIMEOUT
  int64_t transfer_batch_size = 256 * 1024;           // haTransferBatchSize: bytes per DATA frame (at least one record)
  int64_t metadata_sync_interval_ms = 10000;          // haMetadataSyncInterval: full metadata push period
  int64_t reconnect_max_ms = 5000;                    // haReconnectMaxMs: slave reconnect backoff cap
  std::string secret;                                 // haSecret: shared secret of the handshake; never logged
  int64_t handshake_timeout_ms = 5000;                // haHandshakeTimeoutMs: master drops an unfinished handshake
};

void declare_ha_options(boost::program_options::options_description& out);
// Reads and validates the options; errors name the key, the value and what is allowed.
// `broker_id` (brokerId) must be 0 for a master role and > 0 for SLAVE.
Result<HaOptions> parse_ha_options(const boost::program_options::variables_map& vm);
Status check_role_matches_broker_id(const HaOptions& o, int64_t broker_id);

// "host:port" -> (host, port); errors name the key.
Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& key, const std::string& value);

}  // namespace mq::ha
