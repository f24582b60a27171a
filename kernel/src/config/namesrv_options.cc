// mqnamesrv keys: declarations, defaults and conversion into NamesrvConfig.
#include "config/namesrv_options.h"

#include <boost/program_options/value_semantic.hpp>

#include "config/broker_options.h"

namespace po = boost::program_options;

namespace mq::kernel {

po::options_description namesrv_global_options(const std::string& default_plugin_dir) {
  po::options_description g("Global options");
  g.add_options()
      ("listenPort", po::value<int>()->default_value(9876), "name server port (0: any free port, see portFile)")
      ("plugins", po::value<std::string>()->default_value("transport-thrift"), "plugins to load, comma separated")
      ("pluginDir", po::value<std::string>()->default_value(default_plugin_dir), "directory holding <plugin>.so")
      ("scanNotActiveBrokerInterval", po::value<int64_t>()->default_value(5000), "ms between broker expiry scans")
      ("portFile", po::value<std::string>()->default_value(""), "write the bound port to this file")
      ("logLevel", po::value<std::string>()->default_value("info"), "trace, debug, info, warn, error, critical, off")
      ("logFile", po::value<std::string>()->default_value(""), "also log to this file");
  return g;
}

Result<NamesrvConfig> namesrv_config_from(const po::variables_map& vm) {
  NamesrvConfig c;
  auto port = port_from(vm, "listenPort");
  if (!port) return port.status();
  c.listen_port = *port;
  auto selection = plugin_selection(vm, true);
  if (!selection) return selection.status();
  c.plugins = std::move(selection->plugins);
  c.plugin_dir = std::move(selection->plugin_dir);
  int64_t scan = vm["scanNotActiveBrokerInterval"].as<int64_t>();
  if (scan <= 0) {
    return Status::invalid("invalid value '" + std::to_string(scan) +
                           "' for key 'scanNotActiveBrokerInterval' (expected > 0)");
  }
  c.settings.scan_not_active_broker_interval_ms = scan;
  c.port_file = vm["portFile"].as<std::string>();
  c.log_level = vm["logLevel"].as<std::string>();
  if (Status st = check_log_level(c.log_level); !st) return st;
  c.log_file = vm["logFile"].as<std::string>();
  return c;
}

}  // namespace mq::kernel
