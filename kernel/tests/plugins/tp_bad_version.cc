// Loader-test plugin 'tp-bad-version': built for the next plugin API version.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {nullptr};
const char* const kRequires[] = {nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-bad-version", kProvides, kRequires, mq::kPluginApiVersion + 1, MQ_BUILD_SIGNATURE)
