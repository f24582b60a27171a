// WorkerThread: one kernel thread running an asio io_context, for posted tasks and
// periodic timers (pull re-runs, hold timeouts, offset flushes, client expiry).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

namespace mq::kernel {

// Threading: post() and every() are safe from any thread. stop() lets already posted
// tasks run (so every queued reply is still answered), cancels the timers and joins.
// post() after stop() began refuses the task (returns false) so the caller can answer.
class WorkerThread {
 public:
  // `log` must outlive this object; a task that throws is logged and the thread goes on.
  WorkerThread(std::string name, spdlog::logger& log);
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  void start();
  bool post(std::function<void()> task);
  // Runs `task` every `period` on this thread until stop().
  void every(std::chrono::milliseconds period, std::function<void()> task);
  void stop();
  bool in_this_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct Periodic;
  void arm(const std::shared_ptr<Periodic>& p);

  std::string name_;
  spdlog::logger& log_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
  std::mutex post_mu_;                // orders post() against stop()
  std::atomic<bool> stopping_{false};  // written under post_mu_
  std::mutex timers_mu_;
  std::vector<std::shared_ptr<Periodic>> timers_;  // guarded by timers_mu_
};

}  // namespace mq::kernel
