// The SDK's private, unregistered spdlog logger.
#include "logging.h"

#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace mq::client {

spdlog::logger& client_log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("mq-client", std::move(sink));
    const char* level = std::getenv("MQ_CLIENT_LOG_LEVEL");
    l->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::info);
    return l;
  }();
  return *logger;
}

void set_client_log_level(std::string_view level) {
  client_log().set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace mq::client
