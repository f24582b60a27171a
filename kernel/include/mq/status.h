// Status and Result<T>: the error types of the plugin API. Codes mirror RocketMQ's
// response codes so a reply code means the same thing on the wire and in the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mq {

// Numeric values are RocketMQ ResponseCode values; they travel on the wire unchanged.
enum class Code : int32_t {
  kSuccess = 0,
  kSystemError = 1,
  kSystemBusy = 2,
  kRequestCodeNotSupported = 3,  // also "the plugin for this feature is not loaded"
  kTransactionFailed = 4,
  kFlushDiskTimeout = 10,
  kSlaveNotAvailable = 11,
  kFlushSlaveTimeout = 12,
  kMessageIllegal = 13,
  kServiceNotAvailable = 14,  // store read-only, disk full, shutting down
  kVersionNotSupported = 15,
  kNoPermission = 16,
  kTopicNotExist = 17,
  kTopicExistAlready = 18,
  kPullNotFound = 19,
  kPullRetryImmediately = 20,
  kPullOffsetMoved = 21,
  kQueryNotFound = 22,
  kSubscriptionParseFailed = 23,
  kSubscriptionNotExist = 24,
  kSubscriptionNotLatest = 25,
  kSubscriptionGroupNotExist = 26,
  kInvalidParameter = 29,
  kConsumerNotOnline = 206,
  kBrokerNotExist = 211,
};

std::string_view code_name(Code code) noexcept;

// A Status is a code plus a human-readable remark. OK is cheap (no allocation).
// The remark of an error names the value at fault and, where there is one, the fix.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() noexcept { return Status(); }
  static Status error(Code code, std::string message) { return Status(code, std::move(message)); }
  static Status invalid(std::string message) { return Status(Code::kInvalidParameter, std::move(message)); }
  static Status system(std::string message) { return Status(Code::kSystemError, std::move(message)); }

  bool is_ok() const noexcept { return code_ == Code::kSuccess; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "CODE_NAME(n): message", for logs and tool output.
  std::string to_string() const;

 private:
  Code code_ = Code::kSuccess;
  std::string message_;
};

inline std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::kSuccess: return "SUCCESS";
    case Code::kSystemError: return "SYSTEM_ERROR";
    case Code::kSystemBusy: return "SYSTEM_BUSY";
    case Code::kRequestCodeNotSupported: return "REQUEST_CODE_NOT_SUPPORTED";
    case Code::kTransactionFailed: return "TRANSACTION_FAILED";
    case Code::kFlushDiskTimeout: return "FLUSH_DISK_TIMEOUT";
    case Code::kSlaveNotAvailable: return "SLAVE_NOT_AVAILABLE";
    case Code::kFlushSlaveTimeout: return "FLUSH_SLAVE_TIMEOUT";
    case Code::kMessageIllegal: return "MESSAGE_ILLEGAL";
    case Code::kServiceNotAvailable: return "SERVICE_NOT_AVAILABLE";
    case Code::kVersionNotSupported: return "VERSION_NOT_SUPPORTED";
    case Code::kNoPermission: return "NO_PERMISSION";
    case Code::kTopicNotExist: return "TOPIC_NOT_EXIST";
    case Code::kTopicExistAlready: return "TOPIC_EXIST_ALREADY";
    case Code::kPullNotFound: return "PULL_NOT_FOUND";
    case Code::kPullRetryImmediately: return "PULL_RETRY_IMMEDIATELY";
    case Code::kPullOffsetMoved: return "PULL_OFFSET_MOVED";
    case Code::kQueryNotFound: return "QUERY_NOT_FOUND";
    case Code::kSubscriptionParseFailed: return "SUBSCRIPTION_PARSE_FAILED";
    case Code::kSubscriptionNotExist: return "SUBSCRIPTION_NOT_EXIST";
    case Code::kSubscriptionNotLatest: return "SUBSCRIPTION_NOT_LATEST";
    case Code::kSubscriptionGroupNotExist: return "SUBSCRIPTION_GROUP_NOT_EXIST";
    case Code::kInvalidParameter: return "INVALID_PARAMETER";
    case Code::kConsumerNotOnline: return "CONSUMER_NOT_ONLINE";
    case Code::kBrokerNotExist: return "BROKER_NOT_EXIST";
  }
  return "UNKNOWN_CODE";
}

inline std::string Status::to_string() const {
  std::string out(code_name(code_));
  out += '(';
  out += std::to_string(static_cast<int32_t>(code_));
  out += ')';
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

// Result<T> holds either a value or a non-OK Status (C++20 has no std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}           // NOLINT: must not be OK
  bool is_ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return is_ok(); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  // The error; Status::ok() when a value is held.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mq
