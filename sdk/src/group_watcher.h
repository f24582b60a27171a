// GroupWatcher: one long-polling waitConsumerGroupChange call per broker, each on its own
// thread and its own interruptible connection, so a consumer learns at once that a member
// joined or left its group, or that the group's offsets were reset (mqadmin resetOffsetByTime).
// A broker that does not know the method (older broker) is no longer watched; the consumer's
// periodic rebalance still covers it. stop() interrupts held calls and joins every thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pull_channel.h"

namespace mq::client {

class GroupWatcher {
 public:
  // Called on a watcher thread when a broker reports a version other than the last one seen
  // (also for the first answer, with reset_topics empty). Must not block for long.
  using OnChange =
      std::function<void(const std::string& broker_addr, int64_t version, const std::vector<std::string>& reset_topics)>;

  GroupWatcher(std::string group, std::string client_id, int64_t hold_ms, OnChange on_change);
  ~GroupWatcher();  // stop()
  GroupWatcher(const GroupWatcher&) = delete;
  GroupWatcher& operator=(const GroupWatcher&) = delete;

  // Starts watching new addresses and stops watching the ones no longer listed.
  void set_brokers(const std::set<std::string>& addresses);
  void stop();

 private:
  struct Watch {
    std::string address;
    Interrupter interrupter;
    std::atomic<bool> stop{false};
    std::thread thread;
  };
  void run(Watch& watch);
  void stop_watch(const std::shared_ptr<Watch>& watch);

  const std::string group_;
  const std::string client_id_;
  const int64_t hold_ms_;
  const OnChange on_change_;
  std::mutex mu_;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<Watch>> watches_;
};

}  // namespace mq::client
