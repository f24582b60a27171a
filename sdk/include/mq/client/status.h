// Status: the result of a client operation that returns no value (start, shutdown,
// send_oneway): a code from error_code.h plus a human-readable remark.
#pragma once

#include <string>
#include <utility>

#include "mq/client/error_code.h"
#include "mq/client/export.h"

namespace mq::client {

class MQ_CLIENT_API Status {
 public:
  Status() = default;
  Status(int code, std::string remark) : code_(code), remark_(std::move(remark)) {}
  static Status ok() { return Status(); }

  bool is_ok() const noexcept { return code_ == code::kSuccess; }
  explicit operator bool() const noexcept { return is_ok(); }
  int code() const noexcept { return code_; }
  const std::string& remark() const noexcept { return remark_; }
  // "OK" or "CODE_NAME(n): remark".
  std::string to_string() const;

 private:
  int code_ = code::kSuccess;
  std::string remark_;
};

}  // namespace mq::client
