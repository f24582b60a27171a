// Loading and validating one plugin library (Boost.DLL).
#include "plugin_host/plugin_library.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>

#include <boost/dll/shared_library_load_mode.hpp>

namespace mq::kernel {

std::vector<std::string> split_plugin_dirs(const std::string& dirs) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(begin, end - begin);
    if (!dir.empty() && std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(std::move(dir));
    begin = end + 1;
  }
  return out;
}

Result<PluginLibrary> load_plugin_library(const std::string& dirs, const std::string& name) {
  const std::vector<std::string> searched = split_plugin_dirs(dirs);
  std::filesystem::path path;
  std::error_code fs_ec;
  for (const auto& dir : searched) {
    std::filesystem::path candidate = std::filesystem::path(dir) / (name + ".so");
    if (std::filesystem::is_regular_file(candidate, fs_ec)) {
      path = std::move(candidate);
      break;
    }
  }
  if (path.empty()) {
    std::string first = (std::filesystem::path(searched.empty() ? "." : searched.front()) / (name + ".so")).string();
    std::string also;
    for (size_t i = 1; i < searched.size(); ++i) also += (also.empty() ? " (also looked in " : ", ") + searched[i];
    if (!also.empty()) also += ")";
    return Status::invalid("plugin '" + name + "': file " + first + " not found" + also +
                           "; build the plugin or add the directory holding " + name + ".so to pluginDir=");
  }
  const std::string file = path.string();

  PluginLibrary out;
  out.name = name;
  out.path = file;
  try {
    out.library.load(boost::dll::fs::path(file), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return Status::invalid(file + ": cannot load: " + e.what() + "; rebuild the plugin against this kernel");
  }
  if (!out.library.has(kPluginEntrySymbol)) {
    return Status::invalid(file + ": no '" + std::string(kPluginEntrySymbol) +
                           "' symbol, so it is not an mq plugin; export its descriptor with MQ_DECLARE_PLUGIN");
  }
  const PluginDescriptor* d = nullptr;
  try {
    d = out.library.get_alias<PluginEntryFn>(kPluginEntrySymbol)();
  } catch (const std::exception& e) {
    return Status::invalid(file + ": its descriptor function failed: " + e.what());
  }
  if (d == nullptr) return Status::invalid(file + ": its descriptor function returned no descriptor; fix the plugin");
  if (d->api_version != kPluginApiVersion) {
    return Status::invalid(file + ": plugin API version " + std::to_string(d->api_version) + ", kernel expects " +
                           std::to_string(kPluginApiVersion) + "; rebuild the plugin against this kernel's headers");
  }
  const char* signature = d->build_signature ? d->build_signature : "";
  if (std::strcmp(signature, MQ_BUILD_SIGNATURE) != 0) {
    return Status::invalid(file + ": built with '" + signature + "', kernel built with '" MQ_BUILD_SIGNATURE
                           "'; rebuild the plugin with the kernel's compiler, standard library and Boost");
  }
  const std::string declared = d->name ? d->name : "";
  if (declared != name) {
    return Status::invalid(file + ": the library is plugin '" + declared + "', not '" + name + "'; rename it to " +
                           declared + ".so or list '" + declared + "' in plugins=");
  }
  if (d->create == nullptr || d->destroy == nullptr) {
    return Status::invalid(file + ": descriptor lacks create/destroy; fix the plugin's descriptor");
  }
  out.descriptor = d;
  return out;
}

}  // namespace mq::kernel
