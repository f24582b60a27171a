// Opens one plugin library and validates its descriptor before anything else in it is used.
#pragma once

#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "mq/plugin.h"
#include "mq/status.h"

namespace mq::kernel {

// A loaded, validated plugin library. Owns the library handle: every object made by code
// in it (plugin object, services, option values, loggers' sinks) must be destroyed first.
struct PluginLibrary {
  boost::dll::shared_library library;
  const PluginDescriptor* descriptor = nullptr;  // points into `library`
  std::string name;                              // == descriptor->name
  std::string path;
};

// "a:b:c" -> {"a", "b", "c"}, in order, without empty entries and repeats.
std::vector<std::string> split_plugin_dirs(const std::string& dirs);

// Loads "<dir>/<name>.so" from the first of the ':'-separated `dirs` holding that file and
// checks, in order: the file exists, it loads, it exports kPluginEntrySymbol, api_version ==
// kPluginApiVersion, build_signature == MQ_BUILD_SIGNATURE (refusals name both sides), the
// descriptor name == file name. Nothing is created from the library before these pass.
// Each refusal is one line naming the file and the fix.
Result<PluginLibrary> load_plugin_library(const std::string& dirs, const std::string& name);

}  // namespace mq::kernel
