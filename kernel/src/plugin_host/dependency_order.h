// Orders plugins so every provider of a service starts before the plugins requiring it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mq/status.h"

namespace mq::kernel {

struct PluginServices {
  std::string name;
  std::vector<std::string> provides;
  std::vector<std::string> requires_;
};

// Returns indexes into `plugins` in start order (stable: ties keep the listed order).
// Refuses, in this order: a required service nobody provides, a service provided twice
// (every v1 service is exclusive), a dependency cycle.
Result<std::vector<size_t>> dependency_order(const std::vector<PluginServices>& plugins);

}  // namespace mq::kernel
