// ha-sync options: declaration, parsing and validation.
#include "ha_options.h"

#include "mq/plugin_options.h"

namespace po = boost::program_options;

namespace mq::ha {
namespace {

constexpr PluginOptions kOptions{kPluginName};

std::string key(const char* k) {
  return kOptions.key(k);
}

template <typename T>
T get(const po::variables_map& vm, const char* k, T fallback) {
  auto it = vm.find(key(k));
  if (it == vm.end() || it->second.empty()) return fallback;
  return it->second.as<T>();
}

Status positive(const char* k, int64_t v) {
  if (v > 0) return Status::ok();
  return Status::invalid("[ha-sync] " + std::string(k) + "=" + std::to_string(v) + " must be > 0");
}

}  // namespace

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::kAsyncMaster:
      return "ASYNC_MASTER";
    case Role::kSyncMaster:
      return "SYNC_MASTER";
    case Role::kSlave:
      return "SLAVE";
  }
  return "?";
}

void declare_ha_options(po::options_description& out) {
  HaOptions d;
  auto add = out.add_options();
  add(key("brokerRole").c_str(), po::value<std::string>()->default_value("ASYNC_MASTER"),
      "ASYNC_MASTER (replicate, reply at once), SYNC_MASTER (reply after a slave acknowledged) or SLAVE");
  add(key("haListenPort").c_str(), po::value<int64_t>()->default_value(d.listen_port),
      "master: TCP port slaves connect to (0: any free port, written to <storePathRootDir>/ha.port)");
  add(key("haListenAddress").c_str(), po::value<std::string>()->default_value(d.listen_address),
      "master: address the HA port binds to");
  add(key("haMasterAddress").c_str(), po::value<std::string>()->default_value(""),
      "slave: host:port of the master's HA port");
  add(key("haSendHeartbeatInterval").c_str(), po::value<int64_t>()->default_value(d.heartbeat_interval_ms),
      "milliseconds between heartbeats (slave acks, master idle frames)");
  add(key("haHousekeepingInterval").c_str(), po::value<int64_t>()->default_value(d.housekeeping_interval_ms),
      "milliseconds of silence after which a replication connection is dropped");
  add(key("haSlaveFallbehindMax").c_str(), po::value<int64_t>()->default_value(d.slave_fallbehind_max),
      "SYNC_MASTER: bytes a slave may lag before puts answer SLAVE_NOT_AVAILABLE at once");
  add(key("haSyncTimeoutMs").c_str(), po::value<int64_t>()->default_value(d.sync_timeout_ms),
      "SYNC_MASTER: milliseconds a put waits for a slave ack before FLUSH_SLAVE_TIMEOUT");
  add(key("haTransferBatchSize").c_str(), po::value<int64_t>()->default_value(d.transfer_batch_size),
      "master: commit-log bytes per transfer frame (at least one whole record)");
  add(key("haMetadataSyncInterval").c_str(), po::value<int64_t>()->default_value(d.metadata_sync_interval_ms),
      "master: milliseconds between full metadata pushes (changes go within a second)");
  add(key("haReconnectMaxMs").c_str(), po::value<int64_t>()->default_value(d.reconnect_max_ms),
      "slave: longest wait between reconnect attempts (the backoff doubles from 100 ms)");
  add(key("haSecret").c_str(), po::value<std::string>()->default_value(""),
      "shared secret both sides prove (HMAC-SHA256 challenge/response, never sent) in the handshake; the slave "
      "always checks the master's proof, the master checks the slave's unless its secret is empty");
  add(key("haHandshakeTimeoutMs").c_str(), po::value<int64_t>()->default_value(d.handshake_timeout_ms),
      "master: milliseconds a new connection has to complete the handshake before it is dropped");
}

Result<HaOptions> parse_ha_options(const po::variables_map& vm) {
  HaOptions o;
  std::string role = get<std::string>(vm, "brokerRole", "ASYNC_MASTER");
  if (role == "ASYNC_MASTER") {
    o.role = Role::kAsyncMaster;
  } else if (role == "SYNC_MASTER") {
    o.role = Role::kSyncMaster;
  } else if (role == "SLAVE") {
    o.role = Role::kSlave;
  } else {
    return Status::invalid("[ha-sync] brokerRole=" + role + " is not ASYNC_MASTER, SYNC_MASTER or SLAVE");
  }
  int64_t port = get<int64_t>(vm, "haListenPort", 0);
  if (port < 0 || port > 65535)
    return Status::invalid("[ha-sync] haListenPort=" + std::to_string(port) + " must be 0..65535");
  o.listen_port = static_cast<uint16_t>(port);
  o.listen_address = get<std::string>(vm, "haListenAddress", o.listen_address);
  o.master_address = get<std::string>(vm, "haMasterAddress", "");
  o.heartbeat_interval_ms = get<int64_t>(vm, "haSendHeartbeatInterval", o.heartbeat_interval_ms);
  o.housekeeping_interval_ms = get<int64_t>(vm, "haHousekeepingInterval", o.housekeeping_interval_ms);
  o.slave_fallbehind_max = get<int64_t>(vm, "haSlaveFallbehindMax", o.slave_fallbehind_max);
  o.sync_timeout_ms = get<int64_t>(vm, "haSyncTimeoutMs", o.sync_timeout_ms);
  o.transfer_batch_size = get<int64_t>(vm, "haTransferBatchSize", o.transfer_batch_size);
  o.metadata_sync_interval_ms = get<int64_t>(vm, "haMetadataSyncInterval", o.metadata_sync_interval_ms);
  o.reconnect_max_ms = get<int64_t>(vm, "haReconnectMaxMs", o.reconnect_max_ms);
  o.secret = get<std::string>(vm, "haSecret", "");
  o.handshake_timeout_ms = get<int64_t>(vm, "haHandshakeTimeoutMs", o.handshake_timeout_ms);
  for (auto [k, v] : {std::pair{"haSendHeartbeatInterval", o.heartbeat_interval_ms},
                      {"haHousekeepingInterval", o.housekeeping_interval_ms},
                      {"haSlaveFallbehindMax", o.slave_fallbehind_max},
                      {"haSyncTimeoutMs", o.sync_timeout_ms},
                      {"haTransferBatchSize", o.transfer_batch_size},
                      {"haMetadataSyncInterval", o.metadata_sync_interval_ms},
                      {"haReconnectMaxMs", o.reconnect_max_ms},
                      {"haHandshakeTimeoutMs", o.handshake_timeout_ms}}) {
    if (Status st = positive(k, v); !st) return st;
  }
  if (o.transfer_batch_size > (int64_t{32} << 20))
    return Status::invalid("[ha-sync] haTransferBatchSize=" + std::to_string(o.transfer_batch_size) +
                           " must be at most 33554432 (32 MiB)");
  if (o.housekeeping_interval_ms <= o.heartbeat_interval_ms)
    return Status::invalid("[ha-sync] haHousekeepingInterval=" + std::to_string(o.housekeeping_interval_ms) +
                           " must be larger than haSendHeartbeatInterval=" + std::to_string(o.heartbeat_interval_ms) +
                           " or idle connections are dropped");
  if (o.role == Role::kSlave) {
    if (o.master_address.empty())
      return Status::invalid("[ha-sync] brokerRole=SLAVE needs haMasterAddress=<host>:<port> of the master's HA port");
    if (auto hp = parse_host_port("haMasterAddress", o.master_address); !hp) return hp.status();
  }
  return o;
}

Status check_role_matches_broker_id(const HaOptions& o, int64_t broker_id) {
  if (o.role == Role::kSlave && broker_id <= 0)
    return Status::invalid("[ha-sync] brokerRole=SLAVE but brokerId=" + std::to_string(broker_id) +
                           "; a slave needs brokerId > 0 (set brokerId=1, or brokerRole=ASYNC_MASTER/SYNC_MASTER)");
  if (o.role != Role::kSlave && broker_id != 0)
    return Status::invalid("[ha-sync] brokerRole=" + std::string(role_name(o.role)) + " but brokerId=" +
                           std::to_string(broker_id) + "; a master has brokerId=0 (or set brokerRole=SLAVE)");
  return Status::ok();
}

Result<std::pair<std::string, uint16_t>> parse_host_port(const std::string& k, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
    return Status::invalid("[ha-sync] " + k + "=" + value + " is not host:port");
  std::string host = value.substr(0, colon);
  int64_t port = 0;
  for (size_t i = colon + 1; i < value.size(); ++i) {
    char c = value[i];
    if (c < '0' || c > '9' || port > 65535)
      return Status::invalid("[ha-sync] " + k + "=" + value + ": the port is not a number 1..65535");
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535)
    return Status::invalid("[ha-sync] " + k + "=" + value + ": the port is not a number 1..65535");
  return std::pair{host, static_cast<uint16_t>(port)};
}

}  // namespace mq::ha
