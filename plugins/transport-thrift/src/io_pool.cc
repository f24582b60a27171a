// IoPool: thread start/stop around one io_context.
#include "io_pool.h"

namespace mq::transport_thrift {

void IoPool::start() {
  if (running_.exchange(true)) return;
  context_.restart();
  work_.emplace(context_.get_executor());
  workers_.reserve(static_cast<size_t>(threads_));
  for (int i = 0; i < threads_; ++i) {
    workers_.emplace_back([this] {
      // A handler that throws must not take the thread (and with it the process) down.
      for (;;) {
        try {
          context_.run();
          return;
        } catch (const std::exception& e) {
          logger_->error("transport-thrift: io handler threw, continuing: {}", e.what());
        }
      }
    });
  }
}

void IoPool::stop() {
  if (!running_.exchange(false)) return;
  work_.reset();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

bool IoPool::in_io_thread() { return context_.get_executor().running_in_this_thread(); }

}  // namespace mq::transport_thrift
