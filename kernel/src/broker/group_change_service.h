// GroupChangeService: per consumer group version (bumped when a member joins or leaves
// or the group's offsets are reset) and the parked wait_consumer_group_change long polls.
// Holds no thread: parked replies are answered by bump(), expire() (a worker timer) or close().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mq/broker_api.h"

namespace mq::kernel {

// Threading: every method is safe from any thread. Replies are called outside the table
// lock (they only serialize). Invariant: a waiter is parked only while its known version
// equals the group's version, so no bump can be missed.
class GroupChangeService {
 public:
  using Clock = std::chrono::steady_clock;
  // Current member ids of a group (sorted); called without the table lock.
  using MembersFn = std::function<std::vector<std::string>(const std::string& group)>;
  static constexpr size_t kMaxRememberedResets = 64;  // per group

  // Versions of unseen groups start at `initial_version` (the boot time, so a client's
  // version from before a broker restart never matches by accident).
  GroupChangeService(int64_t initial_version, MembersFn members);

  // Answers at once when `known_version` differs from the group's version or the deadline
  // has passed; parks the reply otherwise.
  void wait(const std::string& group, int64_t known_version, Clock::time_point deadline,
            Reply<ConsumerGroupChange> reply);
  // Bumps the group's version (recording `reset_topic` if not empty), answers its waiters
  // and returns the new version.
  int64_t bump(const std::string& group, const std::string& reset_topic = {});
  // Answers the waiters whose deadline is at or before `now` with the unchanged version.
  void expire(Clock::time_point now);
  // Refuses further waits and answers every waiter with `why`.
  void close(const Status& why);
  // Forgets the groups with no parked waiter and no member (calls `members` without the
  // table lock); returns how many. A forgotten group comes back with a version above any
  // it had, so a client's known version never matches a later group by accident; its
  // remembered offset resets are dropped (no member is left to be told).
  size_t prune();

  int64_t version(const std::string& group) const;
  size_t waiting() const;
  size_t group_count() const;

 private:
  struct Waiter {
    int64_t known_version = 0;
    Clock::time_point deadline;
    Reply<ConsumerGroupChange> reply;
  };
  struct Group {
    int64_t version = 0;
    std::deque<std::pair<int64_t, std::string>> resets;  // (version it was bumped to, topic)
    std::vector<Waiter> waiters;
  };
  Group& group_locked(const std::string& name);  // requires mu_
  // Builds the answer for a waiter that knew `known_version`; takes mu_ itself.
  ConsumerGroupChange answer(const std::string& group, int64_t known_version) const;

  const int64_t initial_version_;
  MembersFn members_;
  mutable std::mutex mu_;
  std::map<std::string, Group> groups_;  // guarded by mu_
  size_t waiting_ = 0;                   // guarded by mu_
  bool closed_ = false;                  // guarded by mu_
  // Version of a group not in groups_: initial_version_, raised above every pruned
  // group's version. Guarded by mu_.
  int64_t unseen_version_;
};

}  // namespace mq::kernel
