// schedule entry point: the plugin descriptor exported by plugins/schedule.so.
#include "mq/plugin.h"
#include "schedule_options.h"
#include "schedule_plugin.h"

namespace mq::schedule {
namespace {

const char* const kProvides[] = {"ScheduleService", nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

Plugin* create_plugin() {
  try {
    return new SchedulePlugin();
  } catch (...) {
    return nullptr;
  }
}

void destroy_plugin(Plugin* p) noexcept {
  delete p;
}

const PluginDescriptor kDescriptor{
    kPluginApiVersion, MQ_BUILD_SIGNATURE,        kPluginName,    "0.1.0",         kProvides,
    kRequires,         &declare_schedule_options, &create_plugin, &destroy_plugin,
};

}  // namespace
}  // namespace mq::schedule

namespace {
const mq::PluginDescriptor* schedule_descriptor() {
  return &mq::schedule::kDescriptor;
}
}  // namespace

MQ_DECLARE_PLUGIN(schedule_descriptor)
