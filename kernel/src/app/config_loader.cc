// load_config: pass 1 -> logging -> plugins -> help or pass 2.
#include "app/config_loader.h"

#include <sstream>

#include "config/broker_options.h"
#include "config/option_parser.h"

namespace po = boost::program_options;

namespace mq::kernel {

Result<LoadedConfig> load_config(const std::string& tool, const std::string& usage,
                                 const std::vector<std::string>& args, const po::options_description& globals) {
  OptionParser parser(tool, args);
  auto pass1 = parser.parse_globals(globals);
  if (!pass1) return pass1.status();
  const po::variables_map& vm1 = *pass1;

  LoadedConfig out;
  if (parser.help_requested() && parser.config_file().empty() && !vm1.count("plugins")) {
    std::ostringstream help;
    help << "Usage: " << usage << "\n\n" << globals << "\nAdd -c FILE to also list the options of the plugins FILE loads.\n";
    out.help_text = help.str();
    return out;
  }

  const std::string level = vm1["logLevel"].as<std::string>();
  if (Status s = check_log_level(level); !s) return s;
  auto sinks = LogSinks::create(level, vm1["logFile"].as<std::string>());
  if (!sinks) return sinks.status();
  out.sinks = *sinks;

  auto selection = plugin_selection(vm1, true);
  if (!selection) {
    if (parser.config_file().empty()) return selection.status();
    return Status::invalid(parser.config_file() + ": " + selection.status().message());
  }
  out.host = std::make_unique<PluginHost>(out.sinks->logger("plugin-host"));
  // pluginDir= (':'-separated) is searched first, then the bundled plugins' directory.
  if (Status s = out.host->load(selection->plugin_dir + ":" + default_plugin_dir(), selection->plugins); !s) return s;

  po::options_description all;
  all.add(globals);
  if (Status s = out.host->add_options(all); !s) return s;
  if (parser.help_requested()) {
    std::ostringstream help;
    help << "Usage: " << usage << "\n\n" << all;
    out.help_text = help.str();
    return out;
  }
  auto pass2 = parser.parse_all(all, selection->plugins);
  if (!pass2) return pass2.status();
  out.host->adopt_options(*pass2);
  return out;
}

}  // namespace mq::kernel
