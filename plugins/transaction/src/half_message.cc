// Record transformations of the transaction plugin (see half_message.h).
#include "half_message.h"

#include <charconv>

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
  if (msg.topic == kTransactionHalfTopic || msg.topic == kTransactionOpHalfTopic)
    return Status::invalid("topic '" + msg.topic + "' is the transaction plugin's own; send to another topic");
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
// REAL_TOPIC / REAL_QID of a half back into topic / queue id.
void restore_real(const StoredMessage& half, StoredMessage& out) {
  out.topic = std::string(half.property(prop::kRealTopic));
  int32_t qid = 0;
  std::string_view q = half.property(prop::kRealQueueId);
  std::from_chars(q.data(), q.data() + q.size(), qid);
  out.queue_id = qid;
}
}  // namespace

StoredMessage committed_from_half(const StoredMessage& half) {
  StoredMessage out;
  static_cast<Message&>(out) = static_cast<const Message&>(half);
  restore_real(half, out);
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

StoredMessage check_view_of_half(const StoredMessage& half) {
  StoredMessage out = half;
  restore_real(half, out);
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
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || s < 0) return fallback_ms;
  return s * 1000;
}

}  // namespace mq::transaction
