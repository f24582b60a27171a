// Scheduler: one thread running delayed and periodic tasks in due-time order. Tasks run on
// the scheduler thread and may block on network I/O (they delay the later tasks only).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace mq::client {

class Scheduler {
 public:
  explicit Scheduler(std::string name);
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  // Runs task once after delay_ms. Ignored after stop().
  void schedule(int64_t delay_ms, std::function<void()> task);
  // Runs task after initial_delay_ms, then every period_ms after each run ends.
  void schedule_every(int64_t initial_delay_ms, int64_t period_ms, std::function<void()> task);
  // Drops pending tasks and joins (waits for a running task). Idempotent; not from a task.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  void add(Clock::time_point due, std::function<void()> task);
  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mq::client
