// KernelHostContext: the kernel's HostContext (identity from the config, loggers sharing
// the kernel's sinks), handed to every plugin's init().
#pragma once

#include <memory>
#include <string>

#include "app/log_sinks.h"
#include "mq/host.h"

namespace mq::kernel {

// Threading: safe from any thread (identity is immutable after construction).
// Lifetime: owned by the app; outlives every plugin object.
class KernelHostContext final : public HostContext {
 public:
  KernelHostContext(BrokerIdentity identity, std::shared_ptr<LogSinks> sinks)
      : identity_(std::move(identity)), sinks_(std::move(sinks)) {}
  const BrokerIdentity& identity() const override { return identity_; }
  std::shared_ptr<spdlog::logger> logger(const std::string& component) override { return sinks_->logger(component); }

 private:
  const BrokerIdentity identity_;
  std::shared_ptr<LogSinks> sinks_;
};

}  // namespace mq::kernel
