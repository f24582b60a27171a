// guarded_status: the public SDK API never throws; this turns an exception escaping the
// implementation into a client-error Status "<what> failed: <reason>".
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "mq/client/error_code.h"
#include "mq/client/status.h"

namespace mq::client {

template <typename Fn>
Status guarded_status(const char* what, Fn&& fn) noexcept {
  try {
    return std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    return Status(code::kClientError, std::string(what) + " failed: " + e.what());
  }
}

}  // namespace mq::client
