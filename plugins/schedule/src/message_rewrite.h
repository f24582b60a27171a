// Pure message transformations of the schedule plugin: the before-store rewrite of delayed
// and timed messages into the system topics, the restore at delivery, and the message a
// consumer send-back stores in %RETRY%<group> or %DLQ%<group>. No I/O, no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mq/broker_api.h"
#include "mq/message.h"
#include "mq/status.h"

namespace mq::schedule {

// Timed messages (TIMER_*) wait in this topic, queue 0 (RocketMQ 5.x's name).
inline constexpr std::string_view kTimerTopic = "rmq_sys_wheel_timer";
// Absolute due time (ms since epoch) the hook stamps on a timed message.
inline constexpr std::string_view kTimerOutMs = "TIMER_OUT_MS";

// The before-store rewrite. `now_ms` is the plugin clock; `level_delay_ms` the parsed
// levels; `timer_max_delay_ms` the TIMER_* limit. Leaves undelayed messages and
// transaction PREPARED/ROLLBACK messages alone. A refusal names the property and value.
Status rewrite_for_schedule(StoredMessage& msg, const std::vector<int64_t>& level_delay_ms, int64_t timer_max_delay_ms,
                            int64_t now_ms);

// Moves `msg` (addressed to its real topic/queue) into SCHEDULE_TOPIC_XXXX queue level-1,
// `level` clamped to 1..levels. Sets DELAY to the clamped level.
void move_to_level(StoredMessage& msg, int32_t level, int32_t levels);

// The message to put back when a scheduled message is due: real topic and queue restored,
// REAL_*, DELAY and TIMER_* removed, UNIQ_KEY kept, store-assigned fields cleared.
Result<StoredMessage> restore_for_delivery(const StoredMessage& scheduled);

// What a consumer send-back stores.
struct SendBackPlan {
  StoredMessage message;  // ready to put (already moved to SCHEDULE_TOPIC_XXXX for a retry)
  bool to_dlq = false;
  std::string target_topic;  // %RETRY%<group> or %DLQ%<group>
  int32_t level = 0;         // delay level of a retry (clamped)
};
// `failed` is the record at request.offset; `max_times` the resolved maximum.
SendBackPlan plan_send_back(const StoredMessage& failed, const ConsumerSendBack& request, int32_t max_times,
                            int32_t levels);

}  // namespace mq::schedule
