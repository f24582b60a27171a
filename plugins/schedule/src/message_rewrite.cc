// Message transformations of the schedule plugin (see the header).
#include "message_rewrite.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "mq/schedule_service.h"

namespace mq::schedule {
namespace {

bool parse_i64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status illegal(std::string_view property, std::string_view value, const std::string& why) {
  return Status(Code::kMessageIllegal, "property " + std::string(property) + "='" + std::string(value) + "' " + why);
}

void erase_timer_props(Message& m) {
  for (std::string_view p : {prop::kTimerDeliverMs, prop::kTimerDelayMs, prop::kTimerDelaySec, kTimerOutMs}) {
    auto it = m.properties.find(p);
    if (it != m.properties.end()) m.properties.erase(it);
  }
}

void erase_prop(Message& m, std::string_view p) {
  auto it = m.properties.find(p);
  if (it != m.properties.end()) m.properties.erase(it);
}

}  // namespace

void move_to_level(StoredMessage& msg, int32_t level, int32_t levels) {
  level = std::clamp(level, 1, levels);
  msg.set_property(prop::kRealTopic, msg.topic);
  msg.set_property(prop::kRealQueueId, std::to_string(msg.queue_id));
  msg.set_property(prop::kDelayLevel, std::to_string(level));
  msg.topic = std::string(kScheduleTopic);
  msg.queue_id = level - 1;
}

Status rewrite_for_schedule(StoredMessage& msg, const std::vector<int64_t>& level_delay_ms, int64_t timer_max_delay_ms,
                            int64_t now_ms) {
  if (msg.topic == kScheduleTopic || msg.topic == kTimerTopic)
    return Status(Code::kNoPermission, "topic '" + msg.topic +
                                           "' is reserved for the schedule plugin; send to your own topic with a "
                                           "DELAY or TIMER_* property instead");
  const int32_t type = msg.sys_flag & kTransactionTypeMask;
  if (type == kTransactionPreparedType || type == kTransactionRollbackType) return Status::ok();

  // Timed delivery (TIMER_DELIVER_MS > TIMER_DELAY_MS > TIMER_DELAY_SEC) wins over DELAY.
  std::string_view deliver = msg.property(prop::kTimerDeliverMs);
  std::string_view delay_ms = msg.property(prop::kTimerDelayMs);
  std::string_view delay_sec = msg.property(prop::kTimerDelaySec);
  if (!deliver.empty() || !delay_ms.empty() || !delay_sec.empty()) {
    int64_t due = 0;
    std::string_view name, value;
    int64_t v = 0;
    if (!deliver.empty()) {
      name = prop::kTimerDeliverMs, value = deliver;
      if (!parse_i64(deliver, &v) || v < 0)
        return illegal(name, value, "is not a non-negative integer (ms since the epoch)");
      due = v;
    } else if (!delay_ms.empty()) {
      name = prop::kTimerDelayMs, value = delay_ms;
      if (!parse_i64(delay_ms, &v) || v < 0) return illegal(name, value, "is not a non-negative integer (ms)");
      if (v > timer_max_delay_ms)
        return illegal(name, value,
                       "exceeds the limit schedule.timerMaxDelayMs=" + std::to_string(timer_max_delay_ms) + " ms");
      due = now_ms + v;
    } else {
      name = prop::kTimerDelaySec, value = delay_sec;
      if (!parse_i64(delay_sec, &v) || v < 0) return illegal(name, value, "is not a non-negative integer (seconds)");
      if (v > timer_max_delay_ms / 1000)
        return illegal(name, value,
                       "exceeds the limit schedule.timerMaxDelayMs=" + std::to_string(timer_max_delay_ms) + " ms");
      due = now_ms + v * 1000;
    }
    if (due - now_ms > timer_max_delay_ms)
      return illegal(name, value,
                     "is " + std::to_string(due - now_ms) + " ms ahead, beyond the limit schedule.timerMaxDelayMs=" +
                         std::to_string(timer_max_delay_ms) + " ms");
    erase_prop(msg, prop::kDelayLevel);
    erase_timer_props(msg);
    if (due <= now_ms) return Status::ok();  // already due: store as a normal message
    msg.set_property(prop::kRealTopic, msg.topic);
    msg.set_property(prop::kRealQueueId, std::to_string(msg.queue_id));
    msg.set_property(kTimerOutMs, std::to_string(due));
    msg.topic = std::string(kTimerTopic);
    msg.queue_id = 0;
    return Status::ok();
  }

  std::string_view level = msg.property(prop::kDelayLevel);
  if (level.empty()) return Status::ok();
  int64_t n = 0;
  if (!parse_i64(level, &n))
    return illegal(
        prop::kDelayLevel, level,
        "is not a delay level; use an integer 1.." + std::to_string(level_delay_ms.size()) + " (0 for no delay)");
  if (n <= 0) return Status::ok();
  const auto levels = static_cast<int32_t>(level_delay_ms.size());
  move_to_level(msg, static_cast<int32_t>(std::min<int64_t>(n, levels)), levels);
  return Status::ok();
}

Result<StoredMessage> restore_for_delivery(const StoredMessage& scheduled) {
  std::string_view real_topic = scheduled.property(prop::kRealTopic);
  std::string_view real_qid = scheduled.property(prop::kRealQueueId);
  int64_t qid = 0;
  if (real_topic.empty() || !parse_i64(real_qid, &qid) || qid < 0 || qid > INT32_MAX)
    return Status::invalid("scheduled message at commit-log offset " +
                           std::to_string(scheduled.commit_log_offset.value()) + " has REAL_TOPIC='" +
                           std::string(real_topic) + "' REAL_QID='" + std::string(real_qid) +
                           "'; it cannot be delivered and is skipped");
  StoredMessage out = scheduled;
  out.topic = std::string(real_topic);
  out.queue_id = static_cast<QueueId>(qid);
  erase_prop(out, prop::kRealTopic);
  erase_prop(out, prop::kRealQueueId);
  erase_prop(out, prop::kDelayLevel);
  erase_timer_props(out);
  out.queue_offset = QueueOffset(0);
  out.commit_log_offset = CommitLogOffset(0);
  out.store_timestamp_ms = 0;
  out.store_size = 0;
  out.body_crc = 0;
  return out;
}

SendBackPlan plan_send_back(const StoredMessage& failed, const ConsumerSendBack& request, int32_t max_times,
                            int32_t levels) {
  SendBackPlan plan;
  StoredMessage m = failed;
  erase_prop(m, prop::kRealTopic);
  erase_prop(m, prop::kRealQueueId);
  erase_prop(m, prop::kDelayLevel);
  erase_timer_props(m);
  if (m.property(prop::kRetryTopic).empty())
    m.set_property(prop::kRetryTopic, request.origin_topic.empty() ? m.topic : request.origin_topic);
  if (m.property(prop::kOriginMessageId).empty()) {
    std::string origin =
        request.origin_msg_id.empty() ? std::string(m.property(prop::kUniqKey)) : request.origin_msg_id;
    m.set_property(prop::kOriginMessageId, origin);
  }
  m.reconsume_times = failed.reconsume_times + 1;
  m.queue_offset = QueueOffset(0);
  m.commit_log_offset = CommitLogOffset(0);
  m.store_timestamp_ms = 0;
  m.store_size = 0;
  m.body_crc = 0;
  m.queue_id = 0;
  plan.to_dlq = request.delay_level < 0 || failed.reconsume_times + 1 > max_times;
  if (plan.to_dlq) {
    plan.target_topic = std::string(kDlqGroupTopicPrefix) + request.group;
    m.topic = plan.target_topic;
  } else {
    plan.target_topic = std::string(kRetryGroupTopicPrefix) + request.group;
    m.topic = plan.target_topic;
    int64_t level = request.delay_level > 0 ? request.delay_level : 3 + static_cast<int64_t>(failed.reconsume_times);
    plan.level = static_cast<int32_t>(std::clamp<int64_t>(level, 1, levels));
    move_to_level(m, plan.level, levels);
  }
  plan.message = std::move(m);
  return plan;
}

}  // namespace mq::schedule
