// IoPool: one Boost.Asio io_context run by a fixed number of threads; every server and
// connection of the transport runs on it.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

namespace mq::transport_thrift {

// Threading: start()/stop() from one controlling thread (the plugin's); context() anywhere.
// stop() lets pending handlers finish and joins the threads; it must not be called from an
// io thread. Owners close every socket before stop() so that run() can return.
class IoPool {
 public:
  IoPool(int threads, std::shared_ptr<spdlog::logger> logger) : threads_(threads), logger_(std::move(logger)) {}
  ~IoPool() { stop(); }
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  void stop();
  bool running() const { return running_.load(); }
  // True when called from one of this pool's threads.
  bool in_io_thread();
  boost::asio::io_context& context() { return context_; }

 private:
  int threads_;
  std::shared_ptr<spdlog::logger> logger_;
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> workers_;
  std::atomic<bool> running_{false};
};

}  // namespace mq::transport_thrift
