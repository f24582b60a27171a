// The SDK's logger: one stderr logger per process, never registered in spdlog's global
// registry (the application owns that). Level from MQ_CLIENT_LOG_LEVEL (default "info").
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace mq::client {

spdlog::logger& client_log();
void set_client_log_level(std::string_view level);

}  // namespace mq::client
