// Loader-test plugin 'tp-cycle-a': provides CycleA, requires CycleB.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {"CycleA", nullptr};
const char* const kRequires[] = {"CycleB", nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-cycle-a", kProvides, kRequires, mq::kPluginApiVersion, MQ_BUILD_SIGNATURE)
