// Unique message ids (UNIQ_KEY) for messages whose producer set none, in the shape of
// RocketMQ's MessageClientIDSetter: 32 upper-case hex characters.
#pragma once

#include <string>

#include "mq/message.h"

namespace mq::kernel {

// host ipv4 (4 bytes) + pid (2) + per-process random (4) + counter (6). Thread-safe;
// unique within a process, and across processes/restarts with overwhelming probability.
std::string make_unique_message_id(const HostAddress& host);

}  // namespace mq::kernel
