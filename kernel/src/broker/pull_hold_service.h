// PullHoldService: parked long-polling pulls keyed by "topic@queue" (RocketMQ's
// PullRequestHoldService), woken by store arrivals and expired by deadline. Holds no thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mq/message_store.h"
#include "mq/broker_api.h"

namespace mq::kernel {

struct HeldPull {
  using Clock = std::chrono::steady_clock;
  PullRequest request;
  Reply<PullResponse> reply;  // answered exactly once by whoever takes the HeldPull out
  Clock::time_point deadline;
  std::shared_ptr<const MessageFilter> filter;  // nullptr: everything
  bool wake_on_arrival = true;  // false for short polling (longPollingEnable=false)
};

// Threading: every method is safe from any thread. `on_wake` is called with the table lock
// held (so it never runs after close()); it must only hand the pull to a worker.
class PullHoldService {
 public:
  using WakeFn = std::function<void(HeldPull)>;
  explicit PullHoldService(WakeFn on_wake);

  // Parks the pull; false (pull handed back untouched in *pull) once closed.
  bool park(HeldPull& pull);
  // A message up to `next_offset` (exclusive) is readable in topic/queue. Wakes parked
  // pulls whose offset is below it and whose filter accepts `tag_hash` (any if nullopt).
  void notify(const std::string& topic, QueueId queue_id, QueueOffset next_offset, std::optional<int64_t> tag_hash);
  // Removes and returns the pulls whose deadline is at or before `now`.
  std::vector<HeldPull> take_expired(HeldPull::Clock::time_point now);
  // Refuses further parks and returns every parked pull.
  std::vector<HeldPull> close();
  size_t size() const;

  static std::string key(const std::string& topic, QueueId queue_id) {
    return topic + "@" + std::to_string(queue_id);
  }

 private:
  WakeFn on_wake_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<HeldPull>> parked_;  // guarded by mu_
  size_t count_ = 0;                                               // guarded by mu_
  bool closed_ = false;                                            // guarded by mu_
};

}  // namespace mq::kernel
