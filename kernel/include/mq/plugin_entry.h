// The entry point every plugin library exports, written once: MQ_DEFINE_PLUGIN builds the
// PluginDescriptor (API version, build signature, name, version, provided / required
// services, option declarations) and create / destroy functions for a default-constructible
// Plugin subclass, and exports it under the symbol the loader looks up.
// Header-only (plugins share code only through kernel/include/mq).
#pragma once

#include "mq/plugin.h"

namespace mq {

// create(): a new P, nullptr when its constructor throws (the loader reports the failure).
template <class P>
Plugin* create_plugin_of() noexcept {
  try {
    return new P();
  } catch (...) {
    return nullptr;
  }
}

// destroy(): frees what create_plugin_of made, inside the library that allocated it.
inline void destroy_plugin_of(Plugin* p) noexcept {
  delete p;
}

}  // namespace mq

// Use once per plugin library, at global scope. provides / requires are nullptr-terminated
// arrays of service names; declare_options is void(boost::program_options::options_description&).
#define MQ_DEFINE_PLUGIN(PluginClass, name, version, provides, requires, declare_options) \
  namespace {                                                                             \
  const ::mq::PluginDescriptor* mq_library_plugin_descriptor() {                          \
    static const ::mq::PluginDescriptor descriptor{::mq::kPluginApiVersion,               \
                                                   MQ_BUILD_SIGNATURE,                    \
                                                   name,                                  \
                                                   version,                               \
                                                   provides,                              \
                                                   requires,                              \
                                                   declare_options,                       \
                                                   &::mq::create_plugin_of<PluginClass>,  \
                                                   &::mq::destroy_plugin_of};             \
    return &descriptor;                                                                   \
  }                                                                                       \
  }                                                                                       \
  MQ_DECLARE_PLUGIN(mq_library_plugin_descriptor)
