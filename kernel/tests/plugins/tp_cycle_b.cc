// Loader-test plugin 'tp-cycle-b': provides CycleB, requires CycleA.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {"CycleB", nullptr};
const char* const kRequires[] = {"CycleA", nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-cycle-b", kProvides, kRequires, mq::kPluginApiVersion, MQ_BUILD_SIGNATURE)
