// Completion<R>: the once-only bridge from a kernel reply (any thread) to a Thrift cob, and
// guarded(): runs a handler body so that every exception becomes an error response.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <spdlog/logger.h>

#include "convert.h"

namespace mq::transport_thrift {

// Threading: complete()/fail() may race from several threads; only the first one calls the
// cob. A cob that throws (serialization failure) is logged, never propagated to the caller,
// which may be a kernel thread.
template <typename WireResponse>
class Completion {
 public:
  using Cob = std::function<void(const WireResponse&)>;
  Completion(Cob cob, const char* method, std::shared_ptr<spdlog::logger> logger)
      : cob_(std::move(cob)), method_(method), logger_(std::move(logger)) {}

  void complete(const WireResponse& response) {
    if (done_.exchange(true)) return;
    try {
      cob_(response);
    } catch (const std::exception& e) {
      logger_->error("transport-thrift: cannot write the reply of {}: {}", method_, e.what());
    }
    cob_ = nullptr;  // release the request's buffers as soon as the reply is handed over
  }
  // Converts with `make` and completes; a conversion failure completes with SYSTEM_ERROR.
  template <typename Make>
  void complete_with(Make&& make) {
    try {
      complete(make());
    } catch (const std::exception& e) {
      fail(Status::system(std::string(method_) + ": cannot encode the reply: " + e.what()));
    }
  }
  void fail(const Status& status) { complete(status_response<WireResponse>(status)); }
  const char* method() const { return method_; }

 private:
  Cob cob_;
  const char* method_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> done_{false};
};

template <typename WireResponse>
std::shared_ptr<Completion<WireResponse>> make_completion(std::function<void(const WireResponse&)> cob,
                                                          const char* method,
                                                          const std::shared_ptr<spdlog::logger>& logger) {
  return std::make_shared<Completion<WireResponse>>(std::move(cob), method, logger);
}

// Runs `body`; a ConversionError answers INVALID_PARAMETER, any other exception SYSTEM_ERROR
// with the exception text as remark. (If body already completed, fail() is a no-op.)
template <typename WireResponse, typename Body>
void guarded(const std::shared_ptr<Completion<WireResponse>>& completion, Body&& body) {
  try {
    body();
  } catch (const ConversionError& e) {
    completion->fail(Status::invalid(std::string(completion->method()) + ": " + e.what()));
  } catch (const std::exception& e) {
    completion->fail(Status::system(std::string(completion->method()) + " failed in the broker: " + e.what()));
  } catch (...) {
    completion->fail(Status::system(std::string(completion->method()) + " failed in the broker: unknown exception"));
  }
}

}  // namespace mq::transport_thrift
