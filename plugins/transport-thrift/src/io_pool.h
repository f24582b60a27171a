// IoPool: the transport's io threads. Each thread runs its own Boost.Asio io_context (one
// event loop per thread, no sharing), so a connection placed on a context is served by
// exactly one thread and its handlers never hop threads or need a strand.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "io_placement.h"

namespace mq::transport_thrift {

// Threading: start()/stop() from one controlling thread (the plugin's); place(), unplace(),
// follow(), context(), context_at(), size(), pinned(), running(), in_io_thread() and
// runs_loop() anywhere. Every context is run by exactly one thread, so handlers of objects
// bound to one context are serialized without a strand.
// stop() lets pending handlers finish and joins the threads; it must not be called from an
// io thread. Owners close every socket before stop() so that run() can return.
class IoPool {
 public:
  // `threads` (at least 1) contexts, each with its own thread once started. After running
  // handlers a thread keeps polling its context for `busy_poll` before it sleeps. `affinity`
  // decides whether each thread is pinned to a CPU (io_thread_cpus()).
  IoPool(int threads, std::chrono::microseconds busy_poll, IoThreadAffinity affinity,
         std::shared_ptr<spdlog::logger> logger);
  // Stops, then destroys the contexts last to first: the first holds the acceptors, whose
  // owners may be released by handlers still queued on the others.
  ~IoPool() {
    stop();
    while (!loops_.empty()) loops_.pop_back();
  }
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  void stop();
  bool running() const { return running_.load(); }
  // True when called from one of this pool's threads.
  bool in_io_thread() const;
  // True when called from the thread that runs loop `loop`.
  bool runs_loop(size_t loop) const;
  // Whether the io threads are pinned to CPUs (ioThreadAffinity).
  bool pinned() const { return !cpus_.empty() && cpus_.front() >= 0; }
  // The loop for a new connection whose packets arrive on `incoming_cpu` (-1: unknown),
  // counted as serving it until unplace() (choose_io_thread()).
  size_t place(int incoming_cpu);
  void unplace(size_t loop);
  // For a connection served by `loop` whose peer on this machine now sends from
  // `incoming_cpu`: the loop it moves to (follow_io_thread()), already counted there instead
  // of on `loop`; nullopt if it stays.
  std::optional<size_t> follow(size_t loop, int incoming_cpu);
  // The first context: for objects with no affinity of their own (acceptors, timers).
  boost::asio::io_context& context() { return *loops_.front()->context; }
  boost::asio::io_context& context_at(size_t loop) { return *loops_.at(loop)->context; }
  size_t size() const { return loops_.size(); }

 private:
  struct Loop {
    std::unique_ptr<boost::asio::io_context> context;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    std::thread thread;
  };
  void run(Loop& loop, size_t index);
  // Like io_context::run(), but polls (no sleep) for busy_poll_ after the last handler ran.
  void run_polling(boost::asio::io_context& context) const;

  std::shared_ptr<spdlog::logger> logger_;
  std::chrono::microseconds busy_poll_;
  std::vector<std::unique_ptr<Loop>> loops_;  // fixed at construction
  std::vector<int> cpus_;                     // per loop; fixed at construction
  std::mutex placement_mu_;
  std::vector<uint32_t> loads_;  // per loop: connections placed and not unplaced; guarded by placement_mu_
  std::atomic<bool> running_{false};
};

}  // namespace mq::transport_thrift
