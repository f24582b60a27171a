// SyncWaiters: SYNC_MASTER replies held until a slave acknowledges their end offset, kept
// ordered by offset. No thread waits: the ack path and a timer complete them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "mq/status.h"

namespace mq::ha {

// Threading: every method is safe from any thread; completions are returned to the caller,
// which runs them outside the lock.
class SyncWaiters {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(Status)>;

  enum class Added {
    kHeld,          // kept until acked(>= end), the deadline or close()
    kAlreadyAcked,  // an offset >= end was acknowledged already: complete OK at once
    kClosed,        // close() ran: nothing is kept, complete with an error at once
  };
  // Holds `done` (moved from only when kHeld). The closed check is made under the same
  // lock as close(), so no waiter can be left behind by a racing stop.
  Added add(int64_t end, Clock::time_point deadline, Done& done);
  // Records a slave's acknowledged offset (the highest ever counts) and returns the
  // waiters it satisfies.
  std::vector<Done> acked(int64_t offset);
  // Waiters whose deadline passed (a scan of every waiter; called from a timer).
  std::vector<Done> take_expired(Clock::time_point now);
  std::vector<Done> take_all();
  // take_all(), and every later add() answers kClosed.
  std::vector<Done> close();
  int64_t highest_acked() const;
  size_t size() const;

 private:
  struct Waiter {
    Clock::time_point deadline;
    Done done;
  };
  mutable std::mutex mu_;
  std::multimap<int64_t, Waiter> by_end_;  // guarded by mu_
  int64_t acked_ = -1;                     // guarded by mu_
  bool closed_ = false;                    // guarded by mu_
};

}  // namespace mq::ha
