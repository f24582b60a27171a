// TransactionCheckPoller: one long-polling pollTransactionChecks call per master broker, each
// on its own thread and interruptible connection (like GroupWatcher). Every check received
// is handed to `on_check` together with the broker address it came from. A broker without
// the transaction plugin (REQUEST_CODE_NOT_SUPPORTED) or without the method is polled again
// only after a long pause. stop() interrupts held calls and joins every thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "mq_types.h"
#include "pull_channel.h"

namespace mq::client {

class TransactionCheckPoller {
 public:
  // Runs on a poller thread; must not block for long (hand the work to a pool).
  using OnCheck = std::function<void(const std::string& broker_addr, const wire::TransactionCheck& check)>;

  TransactionCheckPoller(std::string group, std::string client_id, int64_t hold_ms, OnCheck on_check);
  ~TransactionCheckPoller();  // stop()
  TransactionCheckPoller(const TransactionCheckPoller&) = delete;
  TransactionCheckPoller& operator=(const TransactionCheckPoller&) = delete;

  // Starts polling new addresses and stops polling the ones no longer listed.
  void set_brokers(const std::set<std::string>& addresses);
  void stop();

 private:
  struct Poll {
    std::string address;
    Interrupter interrupter;
    std::atomic<bool> stop{false};
    std::thread thread;
  };
  void run(Poll& poll);
  static void stop_poll(const std::shared_ptr<Poll>& poll);

  const std::string group_;
  const std::string client_id_;
  const int64_t hold_ms_;
  const OnCheck on_check_;
  std::mutex mu_;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<Poll>> polls_;
};

}  // namespace mq::client
