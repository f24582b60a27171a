// GroupChangeService: group versions and parked change waits.
#include "broker/group_change_service.h"

#include <algorithm>

namespace mq::kernel {

GroupChangeService::GroupChangeService(int64_t initial_version, MembersFn members)
    : initial_version_(initial_version), members_(std::move(members)), unseen_version_(initial_version) {}

GroupChangeService::Group& GroupChangeService::group_locked(const std::string& name) {
  auto [it, inserted] = groups_.try_emplace(name);
  if (inserted) it->second.version = unseen_version_;
  return it->second;
}

ConsumerGroupChange GroupChangeService::answer(const std::string& group, int64_t known_version) const {
  ConsumerGroupChange out;
  {
    std::lock_guard lock(mu_);
    auto it = groups_.find(group);
    out.version = it == groups_.end() ? unseen_version_ : it->second.version;
    // A new client (known < 0) or one from before a restart reads committed offsets anyway.
    if (it != groups_.end() && known_version >= initial_version_) {
      for (const auto& [v, topic] : it->second.resets)
        if (v > known_version && std::find(out.offset_reset_topics.begin(), out.offset_reset_topics.end(), topic) ==
                                     out.offset_reset_topics.end())
          out.offset_reset_topics.push_back(topic);
    }
  }
  out.consumer_ids = members_(group);
  return out;
}

void GroupChangeService::wait(const std::string& group, int64_t known_version, Clock::time_point deadline,
                              Reply<ConsumerGroupChange> reply) {
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      ConsumerGroupChange r;
      r.status = Status(Code::kServiceNotAvailable, "broker is shutting down");
      r.version = known_version;
      reply(std::move(r));
      return;
    }
    Group& g = group_locked(group);
    if (g.version == known_version && Clock::now() < deadline) {
      g.waiters.push_back(Waiter{known_version, deadline, std::move(reply)});
      ++waiting_;
      return;
    }
  }
  reply(answer(group, known_version));
}

int64_t GroupChangeService::bump(const std::string& group, const std::string& reset_topic) {
  std::vector<Waiter> woken;
  int64_t version = 0;
  {
    std::lock_guard lock(mu_);
    Group& g = group_locked(group);
    version = ++g.version;
    if (!reset_topic.empty()) {
      g.resets.emplace_back(version, reset_topic);
      if (g.resets.size() > kMaxRememberedResets) g.resets.pop_front();
    }
    woken.swap(g.waiters);
    waiting_ -= woken.size();
  }
  for (Waiter& w : woken) w.reply(answer(group, w.known_version));
  return version;
}

void GroupChangeService::expire(Clock::time_point now) {
  std::vector<std::pair<std::string, Waiter>> due;
  {
    std::lock_guard lock(mu_);
    if (waiting_ == 0) return;
    for (auto& [name, g] : groups_) {
      std::erase_if(g.waiters, [&](Waiter& w) {
        if (w.deadline > now) return false;
        due.emplace_back(name, std::move(w));
        return true;
      });
    }
    waiting_ -= due.size();
  }
  for (auto& [name, w] : due) w.reply(answer(name, w.known_version));
}

void GroupChangeService::close(const Status& why) {
  std::vector<Waiter> all;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [name, g] : groups_)
      for (auto& w : g.waiters) all.push_back(std::move(w));
    for (auto& [name, g] : groups_) g.waiters.clear();
    waiting_ = 0;
  }
  for (Waiter& w : all) {
    ConsumerGroupChange r;
    r.status = why;
    r.version = w.known_version;
    w.reply(std::move(r));
  }
}

int64_t GroupChangeService::version(const std::string& group) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  return it == groups_.end() ? unseen_version_ : it->second.version;
}

size_t GroupChangeService::prune() {
  std::vector<std::string> idle;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, g] : groups_)
      if (g.waiters.empty()) idle.push_back(name);
  }
  std::erase_if(idle, [this](const std::string& name) { return !members_(name).empty(); });
  size_t pruned = 0;
  std::lock_guard lock(mu_);
  for (const auto& name : idle) {
    auto it = groups_.find(name);
    // A waiter may have parked since the scan; a member that joined meanwhile bumped the
    // version, which the raised unseen_version_ still covers.
    if (it == groups_.end() || !it->second.waiters.empty()) continue;
    unseen_version_ = std::max(unseen_version_, it->second.version + 1);
    groups_.erase(it);
    ++pruned;
  }
  return pruned;
}

size_t GroupChangeService::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

size_t GroupChangeService::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

}  // namespace mq::kernel
