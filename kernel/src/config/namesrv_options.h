// The mqnamesrv keys and their conversion into NamesrvConfig.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"
#include "namesrv/name_server_core.h"

namespace mq::kernel {

struct NamesrvConfig {
  NameServerSettings settings;                        // scanNotActiveBrokerInterval
  uint16_t listen_port = 9876;                        // listenPort (0: any free port)
  std::vector<std::string> plugins{"transport-thrift"};  // plugins
  std::string plugin_dir;                             // pluginDir
  std::string port_file;                              // portFile: bound port written here ("": none)
  std::string log_level = "info";                     // logLevel
  std::string log_file;                               // logFile
};

boost::program_options::options_description namesrv_global_options(const std::string& default_plugin_dir);
Result<NamesrvConfig> namesrv_config_from(const boost::program_options::variables_map& vm);

}  // namespace mq::kernel
