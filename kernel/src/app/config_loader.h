// The start-up both executables share: pass-1 parse, logging, plugin loading, --help,
// pass-2 strict parse.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "app/log_sinks.h"
#include "mq/status.h"
#include "plugin_host/plugin_host.h"

namespace mq::kernel {

struct LoadedConfig {
  std::shared_ptr<LogSinks> sinks;
  // Plugins loaded and ordered, not created; host->options() is the pass-2 result (globals
  // and every plugin's keys), owned by the host because it may hold plugin-made values.
  std::unique_ptr<PluginHost> host;
  std::string help_text;  // set when --help was asked: print it and exit
};

// `tool` and `usage` go into messages and help; `args` excludes argv[0]; `globals` are the
// executable's own keys (they must include plugins, pluginDir, logLevel and logFile).
Result<LoadedConfig> load_config(const std::string& tool, const std::string& usage,
                                 const std::vector<std::string>& args,
                                 const boost::program_options::options_description& globals);

}  // namespace mq::kernel
