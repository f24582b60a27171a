// LogSinks: kernel sinks and logger factory.
#include "app/log_sinks.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace mq::kernel {

Result<std::shared_ptr<LogSinks>> LogSinks::create(const std::string& level, const std::string& file) {
  std::shared_ptr<LogSinks> out(new LogSinks());
  out->level_ = spdlog::level::from_str(level);
  out->sinks_.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!file.empty()) {
    try {
      out->sinks_.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    } catch (const spdlog::spdlog_ex& e) {
      return Status::invalid("logFile '" + file + "': " + e.what() + "; choose a writable path");
    }
  }
  return out;
}

std::shared_ptr<spdlog::logger> LogSinks::logger(const std::string& name) const {
  auto log = std::make_shared<spdlog::logger>(name, sinks_.begin(), sinks_.end());
  log->set_level(level_);
  log->flush_on(spdlog::level::warn);
  return log;
}

}  // namespace mq::kernel
