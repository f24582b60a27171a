// Loader-test plugin 'tp-beta': requires Alpha, provides Beta.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {"Beta", nullptr};
const char* const kRequires[] = {"Alpha", nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-beta", kProvides, kRequires, mq::kPluginApiVersion, MQ_BUILD_SIGNATURE)
