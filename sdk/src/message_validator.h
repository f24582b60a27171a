// Client-side checks run before any RPC: a message the broker would reject is refused locally
// with a remark naming the problem.
#pragma once

#include <cstdint>

#include "mq/client/message.h"
#include "mq/client/status.h"

namespace mq::client {

inline constexpr size_t kMaxTopicLength = 127;

// Topic: non-empty, at most 127 chars of [A-Za-z0-9_%|-]. Body: non-empty, at most max_body_size.
Status validate_message(const Message& message, int64_t max_body_size);
Status validate_topic(const std::string& topic);

}  // namespace mq::client
