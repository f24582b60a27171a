// Helpers for BrokerCore tests: temp store roots, quiet loggers, synchronous wrappers
// around the asynchronous send/pull replies.
#pragma once

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include <boost/config.hpp>
#include <spdlog/logger.h>

#include "broker/broker_core.h"
#include "mq/broker_api.h"

namespace mq::test {

// A fresh directory under /tmp (mkdtemp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A logger with no sink, not registered in spdlog's registry.
std::shared_ptr<spdlog::logger> quiet_logger(const std::string& name = "broker-test");

// Settings for a broker rooted at `root` (store host 127.0.0.1:10911).
kernel::BrokerSettings test_settings(const std::filesystem::path& root);

Message make_message(std::string body, std::string tags = "");
SendRequest make_send(const std::string& topic, std::vector<Message> messages, QueueId queue_id = -1);
PullRequest make_pull(const std::string& topic, QueueId queue_id, int64_t offset, int64_t suspend_ms = 0,
                      std::string subscription = "*");

// Calls and waits (bounded; a missing reply fails the test with a clear message).
SendResponse send_sync(BrokerApi& api, SendRequest request);
PullResponse pull_sync(BrokerApi& api, PullRequest request);

// Starts a pull and returns its future reply.
std::future<PullResponse> pull_async(BrokerApi& api, PullRequest request);

// Waits up to `timeout` for `pred`; true if it held.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Number of threads of this process (/proc/self/task).
size_t thread_count();

}  // namespace mq::test
