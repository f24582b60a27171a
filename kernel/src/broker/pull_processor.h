// PullProcessor: validates a pull, commits the piggy-backed offset, reads from the store,
// maps GetStatus to the RocketMQ response code, and parks PULL_NOT_FOUND for long polling.
#pragma once

#include <chrono>
#include <optional>

#include <spdlog/logger.h>

#include "broker/broker_core.h"
#include "broker/consumer_offset_manager.h"
#include "broker/pull_hold_service.h"
#include "broker/subscription_group_manager.h"
#include "broker/topic_config_manager.h"
#include "mq/broker_api.h"
#include "mq/message_store.h"

namespace mq::kernel {

// Maps a store result to the pull reply (RocketMQ PullMessageProcessor table), with a
// remark naming the offset and the valid range when the offset is not served.
PullResponse map_get_result(const PullRequest& request, GetResult result);

// The filter of a pull: nullptr for everything ("*"), else a TagFilter or SqlFilter.
// expression_type TAG (or empty) / SQL92, case-insensitive; other types and expressions
// that do not parse are SUBSCRIPTION_PARSE_FAILED.
Result<std::shared_ptr<const MessageFilter>> make_pull_filter(const std::string& expression_type,
                                                              const std::string& expression);

// Threading: process() is safe from any thread and never blocks beyond one store get.
class PullProcessor {
 public:
  using Clock = std::chrono::steady_clock;
  PullProcessor(const BrokerSettings& settings, MessageStore& store, TopicConfigManager& topics,
                ConsumerOffsetManager& offsets, SubscriptionGroupManager& groups, PullHoldService& holds,
                spdlog::logger& log);

  // A new pull from a client: validates, commits commit_offset, then serves or parks it.
  void process(PullRequest request, Reply<PullResponse> reply);
  // Runs a parked pull again (woken by an arrival or expired). With `park_until` in the
  // future a PULL_NOT_FOUND result is parked again until then; else it is answered.
  void rerun(HeldPull pull, std::optional<Clock::time_point> park_until);

 private:
  void serve(PullRequest request, Reply<PullResponse> reply, std::shared_ptr<const MessageFilter> filter,
             std::optional<Clock::time_point> park_until, bool wake_on_arrival);
  // RocketMQ suggestWhichBrokerId for a batch whose last record ends at `pulled_end`: the
  // group's which_broker_when_consume_slowly when the commit-log bytes after it exceed
  // access_message_in_memory_max_ratio % of memory, else the group's broker_id (0, the master).
  int64_t suggest_broker(const PullRequest& request, CommitLogOffset pulled_end);

  const BrokerSettings& settings_;
  MessageStore& store_;
  TopicConfigManager& topics_;
  ConsumerOffsetManager& offsets_;
  SubscriptionGroupManager& groups_;
  PullHoldService& holds_;
  spdlog::logger& log_;
  const int64_t in_memory_bytes_;  // total memory x access_message_in_memory_max_ratio / 100
};

}  // namespace mq::kernel
