// schedule entry point: the plugin descriptor exported by plugins/schedule.so.
#include "mq/plugin.h"
#include "mq/plugin_entry.h"
#include "schedule_options.h"
#include "schedule_plugin.h"

namespace mq::schedule {
namespace {

const char* const kProvides[] = {"ScheduleService", nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

}  // namespace
}  // namespace mq::schedule

MQ_DEFINE_PLUGIN(mq::schedule::SchedulePlugin, mq::schedule::kPluginName, "0.1.0", mq::schedule::kProvides,
                 mq::schedule::kRequires, &mq::schedule::declare_schedule_options)
