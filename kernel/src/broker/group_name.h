// Consumer/producer group name rules (RocketMQ Validators.checkGroup): 1..255 characters
// of [A-Za-z0-9_%|-]. Keeps config files ASCII and keys unambiguous.
#pragma once

#include <string>
#include <string_view>

namespace mq::kernel {

inline constexpr size_t kMaxGroupLength = 255;

// Empty string when valid, else the reason naming the group.
std::string validate_group_name(std::string_view group);

}  // namespace mq::kernel
