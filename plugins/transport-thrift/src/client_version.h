// The client-version rule of the wire contract and the server's own version numbers, as
// answered by getServerInfo.
#pragma once

#include <cstdint>
#include <string>

#include "mq/status.h"
#include "mq_constants.h"

namespace mq::transport_thrift {

inline constexpr int32_t kMinClientVersion = 1;
inline constexpr const char* kServerVersion = "0.1.0";
inline int32_t protocol_version() { return wire::g_mq_constants.PROTOCOL_VERSION; }

// Rule (SendRequest, PullRequest and HeartbeatRequest carry an optional clientVersion):
//  - field absent: accepted -- clients written before the field existed keep working;
//  - present and < kMinClientVersion (0 or negative included): VERSION_NOT_SUPPORTED (15)
//    with a remark naming the method, the version sent and the minimum;
//  - present and above PROTOCOL_VERSION: accepted -- a newer client only adds optional
//    fields (which this server skips) or methods (which it answers UNKNOWN_METHOD).
template <typename WireRequest>
Status check_client_version(const WireRequest& request, const char* method) {
  if (!request.__isset.clientVersion || request.clientVersion >= kMinClientVersion) return Status::ok();
  return Status(Code::kVersionNotSupported,
                std::string(method) + ": clientVersion " + std::to_string(request.clientVersion) +
                    " is not supported; this server (protocol version " + std::to_string(protocol_version()) +
                    ") requires clientVersion >= " + std::to_string(kMinClientVersion) +
                    " or no clientVersion; upgrade the client");
}

}  // namespace mq::transport_thrift
