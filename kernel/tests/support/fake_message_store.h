// The testkit's FakeMessageStore under the kernel tests' namespace.
#pragma once

#include "mq/testkit/fake_message_store.h"

namespace mq::test {
using testkit::FakeMessageStore;
}  // namespace mq::test
