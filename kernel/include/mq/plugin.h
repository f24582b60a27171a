// The plugin contract: the descriptor every plugin library exports, and the Plugin
// lifecycle interface the kernel drives. See docs/architecture.md "Plugins".
#pragma once

#include <cstdint>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace mq {

class ServiceRegistry;
class HostContext;

// Bump on ANY change to a header under kernel/include/mq/. The loader refuses a plugin
// whose descriptor carries another value, before touching anything else in it.
inline constexpr uint32_t kPluginApiVersion = 11;

// Plugins and kernel must be built by the same compiler, standard library and Boost
// (C++ objects cross the boundary). This string is compared verbatim at load time.
#define MQ_STRINGIFY_INNER(x) #x
#define MQ_STRINGIFY(x) MQ_STRINGIFY_INNER(x)
#define MQ_BUILD_SIGNATURE                                                             \
  "gcc-" MQ_STRINGIFY(__GNUC__) "." MQ_STRINGIFY(__GNUC_MINOR__) "/cxx-" MQ_STRINGIFY( \
      __cplusplus) "/glibcxx-" MQ_STRINGIFY(_GLIBCXX_RELEASE) "/boost-" MQ_STRINGIFY(BOOST_VERSION)

// A plugin's lifecycle, driven by the kernel on its main thread:
//   configure(options) -> init(registry, host) -> start() ... stop() -> destroyed.
// Plugins are started in dependency order (providers before users) and stopped in
// reverse. stop() must be idempotent, join every thread the plugin started and release
// every object it handed to others, because the library is unloaded afterwards.
class BOOST_SYMBOL_VISIBLE Plugin {
 public:
  virtual ~Plugin() = default;
  // Reads this plugin's options (keys "<plugin-name>.<key>") and the kernel's global ones.
  // A bad value returns an error naming the key, the value and what is allowed.
  virtual Status configure(const boost::program_options::variables_map& options) = 0;
  // Looks up required services and registers provided ones. No threads yet.
  virtual Status init(ServiceRegistry& registry, HostContext& host) = 0;
  virtual Status start() = 0;
  virtual void stop() = 0;
};

// Read by the loader before any object is created from the library. A plain aggregate:
// api_version and build_signature come first so a mismatched library is rejected before
// any other field is interpreted.
struct PluginDescriptor {
  uint32_t api_version;          // == kPluginApiVersion
  const char* build_signature;   // == MQ_BUILD_SIGNATURE
  const char* name;              // "storage-mmap": also the config section and file name
  const char* version;           // the plugin's own version, for logs
  const char* const* provides;   // service names, nullptr-terminated
  const char* const* requires_;  // service names that must be provided by another plugin
  // Adds this plugin's options, each named "<name>.<key>" (use plugin_option()).
  void (*declare_options)(boost::program_options::options_description& out);
  Plugin* (*create)();  // nullptr on failure; the object is freed by destroy()
  void (*destroy)(Plugin*) noexcept;
};

// Exported symbol alias every plugin library defines (via MQ_DECLARE_PLUGIN).
inline constexpr const char* kPluginEntrySymbol = "mq_plugin_descriptor";
using PluginEntryFn = const PluginDescriptor*();

}  // namespace mq

// Use once per plugin library, at namespace scope, naming a function
// `const mq::PluginDescriptor* fn()` defined in that library.
#define MQ_DECLARE_PLUGIN(fn) BOOST_DLL_ALIAS(fn, mq_plugin_descriptor)
