// PluginHost: loads the configured plugin libraries and drives their lifecycle
// (configure -> init -> start in dependency order, stop in reverse, destroy, unload).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <spdlog/logger.h>

#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/service_registry.h"
#include "mq/status.h"
#include "plugin_host/plugin_library.h"

namespace mq::kernel {

// Usage: load() -> add_options() (build the parse) -> adopt_options(parsed) -> start() ...
// shutdown().
// Threading: main thread only. Lifetime: owns every library; shutdown() (also run by the
// destructor) stops the plugins, clears the registry, destroys the plugin objects and the
// parsed options (their values may be plugin-made), and only then unloads the libraries.
// Anything else the caller got from a plugin (services, servers) must be released before.
class PluginHost {
 public:
  explicit PluginHost(std::shared_ptr<spdlog::logger> log);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads and validates "<dir>/<name>.so" for each name (`dir`: ":"-separated, first hit
  // wins; see load_plugin_library), then checks services and computes
  // the start order. On error nothing stays loaded.
  Status load(const std::string& dir, const std::vector<std::string>& names);

  // Adds one group per loaded plugin ("[name] options"). Refuses an option named outside
  // the plugin's section. `out` holds plugin-made objects: destroy it before shutdown().
  Status add_options(boost::program_options::options_description& out) const;

  // Takes the parsed options: their values and semantics may be plugin-made, so the host
  // keeps them and destroys them before unloading.
  void adopt_options(const boost::program_options::variables_map& options);
  const boost::program_options::variables_map& options() const { return *options_; }

  // Creates every plugin, then configure / init / start each in dependency order, calling
  // `after_init` (if any) between the last init() and the first start(): the registry is
  // complete then. On a failure the started plugins are stopped in reverse and the error
  // names the plugin.
  Status start(HostContext& host, const std::function<Status()>& after_init = {});

  // Stops started plugins in reverse order; idempotent. Objects and libraries stay.
  void stop();
  // stop(), clear the registry, destroy objects and options, unload libraries. Idempotent.
  void shutdown();

  ServiceRegistry& registry() { return registry_; }
  // Plugin names in start order (valid after load()).
  std::vector<std::string> start_order() const;
  std::vector<std::string> loaded() const;

 private:
  struct Loaded {
    PluginLibrary lib;
    Plugin* object = nullptr;  // made by lib's create(); freed by lib's destroy()
    bool started = false;      // start() was called (stop() is due even if it failed)
  };
  Status run_phase(const char* phase, Loaded& p, HostContext& host);

  std::shared_ptr<spdlog::logger> log_;
  std::vector<Loaded> plugins_;  // load order
  std::vector<size_t> order_;    // start order, indexes into plugins_
  ServiceRegistry registry_;
  // Never null; reset before the libraries are unloaded.
  std::unique_ptr<boost::program_options::variables_map> options_ =
      std::make_unique<boost::program_options::variables_map>();
};

}  // namespace mq::kernel
