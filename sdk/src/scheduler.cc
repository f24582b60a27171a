// Scheduler implementation.
#include "scheduler.h"

#include <exception>
#include <memory>

#include "logging.h"

namespace mq::client {

Scheduler::Scheduler(std::string name) : name_(std::move(name)) {}
Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  std::lock_guard lock(mu_);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

void Scheduler::add(Clock::time_point due, std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.emplace(due, std::move(task));
  }
  cv_.notify_all();
}

void Scheduler::schedule(int64_t delay_ms, std::function<void()> task) {
  add(Clock::now() + std::chrono::milliseconds(delay_ms), std::move(task));
}

void Scheduler::schedule_every(int64_t initial_delay_ms, int64_t period_ms, std::function<void()> task) {
  auto shared = std::make_shared<std::function<void()>>(std::move(task));
  auto repeat = std::make_shared<std::function<void()>>();
  // The periodic wrapper re-arms itself after each run; it holds only a weak self-reference.
  std::weak_ptr<std::function<void()>> weak_repeat = repeat;
  *repeat = [this, shared, weak_repeat, period_ms] {
    (*shared)();
    if (auto self = weak_repeat.lock()) schedule(period_ms, [self] { (*self)(); });
  };
  schedule(initial_delay_ms, [repeat] { (*repeat)(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = tasks_.begin()->first;
    if (Clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      client_log().error("{}: scheduled task threw: {}", name_, e.what());
    }
    lock.lock();
  }
}

}  // namespace mq::client
