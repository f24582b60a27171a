// Record transformations of the transaction plugin (see half_message.h).
#include "half_message.h"

#include <charconv>
#include <climits>
#include <cstdint>

#include "mq/transaction_service.h"

namespace mq::transaction {

std::string_view op_kind_name(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::kCommit:
      return "COMMIT";
    case OpKind::kRollback:
      return "ROLLBACK";
    case OpKind::kDiscard:
      return "DISCARD";
    case OpKind::kCheck:
      return "CHECK";
  }
  return "?";
}

std::optional<OpKind> parse_op_kind(std::string_view name) noexcept {
  for (OpKind k : {OpKind::kCommit, OpKind::kRollback, OpKind::kDiscard, OpKind::kCheck})
    if (op_kind_name(k) == name) return k;
  return std::nullopt;
}

Status to_half(StoredMessage& msg) {
  const int32_t type = msg.sys_flag & kTransactionTypeMask;
  if (type == kTransactionNotType) return Status::ok();
  if (type != kTransactionPreparedType)
    return Status::invalid(std::string("a send to topic '") + msg.topic + "' carries transaction type " +
                           (type == kTransactionCommitType ? "COMMIT (0x8)" : "ROLLBACK (0xC)") +
                           "; end a transaction with endTransaction, not with a send");
  if (msg.property(prop::kProducerGroup).empty())
    return Status::invalid("a transactional (PREPARED) message to topic '" + msg.topic +
                           "' has no producer group; set SendRequest.producerGroup (check-backs go to that group)");
  if (is_system_topic(msg.topic))
    return Status::invalid("topic '" + msg.topic +
                           "' is a system topic; a transactional (PREPARED) message must go to a user topic");
  if (std::string_view delay = msg.property(prop::kDelayLevel); !delay.empty() && delay != "0")
    return Status::invalid("a transactional (PREPARED) message to topic '" + msg.topic +
                           "' has DELAY=" + std::string(delay) +
                           "; transactional messages cannot be delayed: remove the delay level (RocketMQ's "
                           "producer drops it) or send a plain delayed message");
  for (const auto& [key, value] : msg.properties)
    if (key.rfind("TIMER_", 0) == 0)
      return Status::invalid("a transactional (PREPARED) message to topic '" + msg.topic + "' has " + key + "=" +
                             value + "; transactional messages cannot be timed: remove the TIMER_* property");
  if (std::string_view imm = msg.property(tprop::kCheckImmunitySeconds); !imm.empty()) {
    int64_t s = -1;
    auto [end, ec] = std::from_chars(imm.data(), imm.data() + imm.size(), s);
    if (ec != std::errc() || end != imm.data() + imm.size() || s < 0 || s > kMaxImmunitySeconds)
      return Status::invalid("a transactional (PREPARED) message to topic '" + msg.topic + "' has " +
                             std::string(tprop::kCheckImmunitySeconds) + "=" + std::string(imm) +
                             "; allowed is an integer number of seconds from 0 to " +
                             std::to_string(kMaxImmunitySeconds));
  }
  msg.set_property(prop::kRealTopic, msg.topic);
  msg.set_property(prop::kRealQueueId, std::to_string(msg.queue_id));
  msg.set_property(prop::kTransactionPrepared, "true");
  msg.set_property(tprop::kTransactionId, std::string(msg.property(prop::kUniqKey)));
  msg.topic = std::string(kTransactionHalfTopic);
  msg.queue_id = 0;
  msg.sys_flag &= ~kTransactionTypeMask;
  return Status::ok();
}

namespace {
// REAL_TOPIC / REAL_QID of a half back into topic / queue id; an error naming the half when
// they do not name a user topic and a queue id in [0, 2^31-1] (never a silent queue 0).
Status restore_real(const StoredMessage& half, StoredMessage& out) {
  const std::string where = "the half message at commit-log offset " + std::to_string(half.commit_log_offset.value());
  std::string_view topic = half.property(prop::kRealTopic);
  if (topic.empty()) return Status::invalid(where + " has no REAL_TOPIC; it cannot be delivered");
  if (is_system_topic(topic))
    return Status::invalid(where + " names the system topic '" + std::string(topic) +
                           "' as REAL_TOPIC; it is never delivered there");
  std::string_view q = half.property(prop::kRealQueueId);
  int64_t qid = -1;
  auto [end, ec] = std::from_chars(q.data(), q.data() + q.size(), qid);
  if (q.empty() || ec != std::errc() || end != q.data() + q.size() || qid < 0 || qid > INT32_MAX)
    return Status::invalid(where + " has REAL_QID='" + std::string(q) +
                           "'; a queue id from 0 to 2147483647 is required, it cannot be delivered");
  out.topic = std::string(topic);
  out.queue_id = static_cast<QueueId>(qid);
  return Status::ok();
}
}  // namespace

Result<StoredMessage> committed_from_half(const StoredMessage& half) {
  StoredMessage out;
  static_cast<Message&>(out) = static_cast<const Message&>(half);
  if (Status st = restore_real(half, out); !st) return st;
  out.properties.erase(std::string(prop::kRealTopic));
  out.properties.erase(std::string(prop::kRealQueueId));
  out.properties.erase(std::string(prop::kTransactionPrepared));
  out.sys_flag = (half.sys_flag & ~kTransactionTypeMask) | kTransactionCommitType;
  out.born_timestamp_ms = half.born_timestamp_ms;
  out.born_host = half.born_host;
  out.store_host = half.store_host;
  out.reconsume_times = half.reconsume_times;
  out.prepared_transaction_offset = half.commit_log_offset;
  return out;
}

Result<StoredMessage> check_view_of_half(const StoredMessage& half) {
  StoredMessage out = half;
  if (Status st = restore_real(half, out); !st) return st;
  return out;
}

StoredMessage discarded_copy(const StoredMessage& half, int64_t check_times) {
  StoredMessage out;
  static_cast<Message&>(out) = static_cast<const Message&>(half);
  out.topic = std::string(kCheckMaxTimeTopic);
  out.queue_id = 0;
  out.set_property(tprop::kCheckTimes, std::to_string(check_times));
  out.sys_flag = half.sys_flag & ~kTransactionTypeMask;
  out.born_timestamp_ms = half.born_timestamp_ms;
  out.born_host = half.born_host;
  out.store_host = half.store_host;
  out.prepared_transaction_offset = half.commit_log_offset;
  return out;
}

StoredMessage make_op(QueueOffset half_queue_offset, CommitLogOffset half_offset, OpKind kind,
                      const HostAddress& store_host) {
  StoredMessage op;
  op.topic = std::string(kTransactionOpHalfTopic);
  op.queue_id = 0;
  op.body = std::to_string(half_queue_offset.value());
  op.set_property(prop::kTags, std::string(kOpTag));
  op.set_property(tprop::kOpKind, std::string(op_kind_name(kind)));
  op.set_property(tprop::kOpHalfOffset, std::to_string(half_offset.value()));
  op.store_host = store_host;
  op.born_host = store_host;
  return op;
}

std::optional<ParsedOp> parse_op(const StoredMessage& op) {
  auto kind = parse_op_kind(op.property(tprop::kOpKind));
  if (!kind) return std::nullopt;
  int64_t q = -1;
  auto [end, ec] = std::from_chars(op.body.data(), op.body.data() + op.body.size(), q);
  if (ec != std::errc() || end != op.body.data() + op.body.size() || q < 0) return std::nullopt;
  return ParsedOp{QueueOffset(q), *kind};
}

int64_t immunity_ms(const StoredMessage& half, int64_t fallback_ms) {
  std::string_view v = half.property(tprop::kCheckImmunitySeconds);
  int64_t s = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || s < 0 || s > kMaxImmunitySeconds)
    return fallback_ms;
  return s * 1000;
}

}  // namespace mq::transaction
