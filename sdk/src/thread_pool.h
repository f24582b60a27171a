// ThreadPool: a fixed set of worker threads draining a bounded FIFO of tasks.
// Thread-safe. Tasks must not throw (an escaping exception is logged and swallowed).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mq::client {

class ThreadPool {
 public:
  // capacity: the most queued (not yet running) tasks; 0 = unbounded.
  ThreadPool(std::string name, int threads, size_t capacity = 0);
  ~ThreadPool();  // shutdown(true)
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // False when the queue is full or the pool is shut down (the task is not run).
  bool try_submit(std::function<void()> task);
  // Stops accepting tasks; runs the queued ones when drain, else discards them; joins.
  // Must not be called from a worker of this pool. Idempotent.
  void shutdown(bool drain);
  size_t queued() const;

 private:
  void run();
  std::string name_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  bool drain_ = true;
  std::vector<std::thread> workers_;
};

}  // namespace mq::client
