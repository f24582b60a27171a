// Loader-test plugin 'tp-bad-signature': claims another build signature.
#include "test_plugin.h"

namespace {
const char* const kProvides[] = {nullptr};
const char* const kRequires[] = {nullptr};
}  // namespace

MQ_TEST_PLUGIN("tp-bad-signature", kProvides, kRequires, mq::kPluginApiVersion, "other-compiler/other-boost")
