// Loader-test plugin 'tp-alpha-twin': also provides Alpha (an exclusive service).
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {"Alpha", nullptr};
const char* const kRequires[] = {nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-alpha-twin", kProvides, kRequires, mq::kPluginApiVersion, MQ_BUILD_SIGNATURE)
