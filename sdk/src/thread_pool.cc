// ThreadPool implementation.
#include "thread_pool.h"

#include <exception>

#include "logging.h"

namespace mq::client {

ThreadPool::ThreadPool(std::string name, int threads, size_t capacity) : name_(std::move(name)), capacity_(capacity) {
  if (threads < 1) threads = 1;
  workers_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() { shutdown(true); }

bool ThreadPool::try_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || (capacity_ > 0 && tasks_.size() >= capacity_)) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ThreadPool::shutdown(bool drain) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_ = drain;
    }
    if (!drain) tasks_.clear();
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

size_t ThreadPool::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void ThreadPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty() || (stopping_ && !drain_)) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      client_log().error("{}: task threw: {}", name_, e.what());
    } catch (...) {
      client_log().error("{}: task threw a non-standard exception", name_);
    }
  }
}

}  // namespace mq::client
