// The audit module's entry point: exports the descriptor as the `mq_plugin_descriptor` alias.
#include "audit_plugin.h"

namespace {
const mq::PluginDescriptor* audit_plugin_descriptor() {
  return &audit::audit_descriptor();
}
}  // namespace

MQ_DECLARE_PLUGIN(audit_plugin_descriptor)
