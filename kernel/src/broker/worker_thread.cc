// WorkerThread: io_context + one thread + periodic steady_timers.
#include "broker/worker_thread.h"

#include <pthread.h>

#include <boost/asio/post.hpp>

namespace mq::kernel {

struct WorkerThread::Periodic {
  Periodic(boost::asio::io_context& io, std::chrono::milliseconds p, std::function<void()> t)
      : timer(io), period(p), task(std::move(t)) {}
  boost::asio::steady_timer timer;  // touched only on the worker thread
  std::chrono::milliseconds period;
  std::function<void()> task;
};

WorkerThread::WorkerThread(std::string name, spdlog::logger& log) : name_(std::move(name)), log_(log) {}

WorkerThread::~WorkerThread() { stop(); }

void WorkerThread::start() {
  if (thread_.joinable()) return;
  guard_.emplace(io_.get_executor());
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
    while (true) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        log_.error("task on thread {} failed: {}; the thread continues", name_, e.what());
      }
    }
  });
}

bool WorkerThread::post(std::function<void()> task) {
  std::lock_guard lock(post_mu_);
  if (stopping_.load(std::memory_order_acquire)) return false;
  boost::asio::post(io_, std::move(task));
  return true;
}

void WorkerThread::every(std::chrono::milliseconds period, std::function<void()> task) {
  auto p = std::make_shared<Periodic>(io_, period, std::move(task));
  {
    std::lock_guard lock(timers_mu_);
    timers_.push_back(p);
  }
  boost::asio::post(io_, [this, p] { arm(p); });
}

void WorkerThread::arm(const std::shared_ptr<Periodic>& p) {
  if (stopping_.load(std::memory_order_acquire)) return;
  p->timer.expires_after(p->period);
  p->timer.async_wait([this, p](const boost::system::error_code& ec) {
    if (ec || stopping_.load(std::memory_order_acquire)) return;
    p->task();
    arm(p);
  });
}

void WorkerThread::stop() {
  bool already = false;
  {
    std::lock_guard lock(post_mu_);
    already = stopping_.exchange(true);
  }
  if (already) {  // sequential repeat call (e.g. the destructor after stop())
    if (thread_.joinable() && !in_this_thread()) thread_.join();
    return;
  }
  std::vector<std::shared_ptr<Periodic>> timers;
  {
    std::lock_guard lock(timers_mu_);
    timers.swap(timers_);
  }
  boost::asio::post(io_, [timers] {
    for (const auto& p : timers) p->timer.cancel();
  });
  guard_.reset();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    io_.run();  // never started: run what was posted so no reply is lost
  }
}

}  // namespace mq::kernel
