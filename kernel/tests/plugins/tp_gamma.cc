// Loader-test plugin 'tp-gamma': requires Beta.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {nullptr};
const char* const kRequires[] = {"Beta", nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-gamma", kProvides, kRequires, mq::kPluginApiVersion, MQ_BUILD_SIGNATURE)
