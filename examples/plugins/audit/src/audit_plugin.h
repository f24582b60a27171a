// The audit plugin's descriptor (defined in the core library so unit tests can drive the
// whole lifecycle; src/plugin.cc exports it from the module).
#pragma once

#include "mq/plugin.h"

#ifndef MQ_PLUGIN_NAME
#define MQ_PLUGIN_NAME "audit"  // set by mq_add_plugin() from its NAME
#endif

namespace audit {

const mq::PluginDescriptor& audit_descriptor();

}  // namespace audit
