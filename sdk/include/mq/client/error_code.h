// Result codes seen by client code: RocketMQ response codes (>= 0, as sent by the broker and
// the name server) and client-side codes (< 0, produced by the SDK itself).
#pragma once

#include <cstdint>
#include <string_view>

#include "mq/client/export.h"

namespace mq::client {

namespace code {
// Server response codes (RocketMQ ResponseCode values).
inline constexpr int kSuccess = 0;
inline constexpr int kSystemError = 1;
inline constexpr int kSystemBusy = 2;
inline constexpr int kRequestCodeNotSupported = 3;
inline constexpr int kFlushDiskTimeout = 10;
inline constexpr int kSlaveNotAvailable = 11;
inline constexpr int kFlushSlaveTimeout = 12;
inline constexpr int kMessageIllegal = 13;
inline constexpr int kServiceNotAvailable = 14;
inline constexpr int kVersionNotSupported = 15;
inline constexpr int kNoPermission = 16;
inline constexpr int kTopicNotExist = 17;
inline constexpr int kTopicExistAlready = 18;
inline constexpr int kPullNotFound = 19;
inline constexpr int kPullRetryImmediately = 20;
inline constexpr int kPullOffsetMoved = 21;
inline constexpr int kQueryNotFound = 22;
inline constexpr int kSubscriptionParseFailed = 23;
inline constexpr int kSubscriptionNotExist = 24;
inline constexpr int kSubscriptionGroupNotExist = 26;
inline constexpr int kInvalidParameter = 29;
inline constexpr int kConsumerNotOnline = 206;
inline constexpr int kBrokerNotExist = 211;

// Client-side codes (never sent on the wire).
inline constexpr int kClientError = -1000;          // unexpected failure inside the SDK
inline constexpr int kRpcFailed = -1001;            // connection refused / closed / protocol error
inline constexpr int kRpcTimeout = -1002;           // no answer within the configured timeout
inline constexpr int kNoNameServer = -1003;         // no name server address configured
inline constexpr int kNoRoute = -1004;              // the topic has no usable route
inline constexpr int kIllegalArgument = -1005;      // rejected by client-side validation
inline constexpr int kIllegalState = -1006;         // not started, already started, shut down
inline constexpr int kClientBusy = -1007;           // a bounded client queue is full
}  // namespace code

// "TOPIC_NOT_EXIST", "RPC_TIMEOUT", ... or "UNKNOWN" for codes this SDK does not name.
MQ_CLIENT_API std::string_view code_name(int code) noexcept;

}  // namespace mq::client
