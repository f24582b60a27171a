// FakeConfig: builds the variables_map a plugin's configure() receives, from "key=value"
// strings, so option parsing and validation can be unit-tested without a config file.
#pragma once

#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/plugin.h"
#include "mq/status.h"

namespace mq::testkit {

// The signature of PluginDescriptor::declare_options.
using DeclareOptionsFn = void (*)(boost::program_options::options_description&);

// Declares the plugin's options with `declare`, parses `settings` (full keys as the kernel
// sees them: "audit.file=/tmp/a.log", i.e. key `file` in section [audit]) the way the
// config file is parsed, applies defaults and notifies. An unknown key, a repeated
// single-value key or a value of the wrong type gives an error naming the key.
Result<boost::program_options::variables_map> make_plugin_options(DeclareOptionsFn declare,
                                                                  const std::vector<std::string>& settings);
// The same, with the descriptor's declare_options.
Result<boost::program_options::variables_map> make_plugin_options(const PluginDescriptor& descriptor,
                                                                  const std::vector<std::string>& settings);

}  // namespace mq::testkit
