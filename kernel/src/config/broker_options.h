// The mqbroker global keys (RocketMQ names) and their conversion into BrokerConfig.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "broker/broker_core.h"
#include "mq/status.h"

namespace mq::kernel {

// Everything mqbroker reads from its global keys.
struct BrokerConfig {
  BrokerSettings settings;               // identity.broker_address.port is listenPort (0: any)
  std::string broker_ip = "127.0.0.1";   // brokerIP1
  uint16_t listen_port = 10911;          // listenPort
  std::vector<std::string> plugins;      // plugins
  std::string plugin_dir;                // pluginDir
  bool embedded_namesrv_enable = false;  // embeddedNamesrvEnable
  uint16_t namesrv_listen_port = 9876;   // namesrvListenPort
  std::string log_level = "info";        // logLevel
  std::string log_file;                  // logFile ("": stderr only)
};

// Declares the global keys. `default_plugin_dir` is <dir of the executable>/../plugins.
boost::program_options::options_description broker_global_options(const std::string& default_plugin_dir);

// The plugins= list and pluginDir, from a pass-1 parse.
struct PluginSelection {
  std::vector<std::string> plugins;
  std::string plugin_dir;
};
Result<PluginSelection> plugin_selection(const boost::program_options::variables_map& vm, bool required);

// Converts and range-checks the global keys; errors name the key, value and the allowed range.
Result<BrokerConfig> broker_config_from(const boost::program_options::variables_map& vm);

// Shared by both executables.
Result<uint16_t> port_from(const boost::program_options::variables_map& vm, const std::string& key);
Status check_log_level(const std::string& level);
// Parses a dotted IPv4 address into host byte order.
Result<uint32_t> parse_ipv4(const std::string& text);
// The bundled plugins: <dir of the running executable>/../plugins in a build tree, else
// <dir of the running executable>/../lib/mq/plugins (an installed prefix).
std::string default_plugin_dir();

}  // namespace mq::kernel
