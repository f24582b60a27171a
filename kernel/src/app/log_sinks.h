// LogSinks: the kernel's spdlog sinks (colored stderr, optional file) and a factory of
// loggers sharing them. Loggers are never registered in spdlog's global registry.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mq/status.h"

namespace mq::kernel {

// Threading: logger() is safe from any thread; the sinks are the thread-safe (_mt) kind.
class LogSinks {
 public:
  // `level` is a spdlog level name ("info"); `file` may be empty (stderr only).
  static Result<std::shared_ptr<LogSinks>> create(const std::string& level, const std::string& file);
  std::shared_ptr<spdlog::logger> logger(const std::string& name) const;

 private:
  LogSinks() = default;
  std::vector<spdlog::sink_ptr> sinks_;
  spdlog::level::level_enum level_ = spdlog::level::info;
};

}  // namespace mq::kernel
