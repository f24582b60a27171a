// Small pieces every mqadmin command file uses: exit codes, the error printer and a message
// property lookup. Header-only; no state.
#pragma once

#include <ostream>
#include <string>

#include "mq/client/status.h"
#include "mq_types.h"

namespace mq::admin {

// Exit codes: 0 success, 1 an RPC or server error (printed as CODE_NAME(n): remark), 2 usage.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// Prints "error: CODE_NAME(n): remark" and returns kExitError.
inline int fail(std::ostream& err, const client::Status& status) {
  err << "error: " << status.to_string() << '\n';
  return kExitError;
}

// The property `name` of m, "" when absent.
inline std::string message_property(const wire::MessageExt& m, const std::string& name) {
  auto it = m.properties.find(name);
  return it == m.properties.end() ? std::string() : it->second;
}

}  // namespace mq::admin
