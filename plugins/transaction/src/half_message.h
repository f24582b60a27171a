// Pure record transformations of the transaction plugin: a PREPARED send into a half message,
// a half back into the committed message, op records (the durable log of what happened to a
// half) and the copy kept in TRANS_CHECK_MAX_TIME_TOPIC. No I/O, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mq/message.h"
#include "mq/status.h"
#include "mq/types.h"

namespace mq::transaction {

inline constexpr std::string_view kCheckMaxTimeTopic = "TRANS_CHECK_MAX_TIME_TOPIC";
inline constexpr std::string_view kOpTag = "d";  // RocketMQ's op-message tag

// Properties this plugin reads or writes (RocketMQ MessageConst names where one exists).
namespace tprop {
inline constexpr std::string_view kCheckImmunitySeconds = "CHECK_IMMUNITY_TIME_IN_SECONDS";
inline constexpr std::string_view kCheckTimes = "TRANSACTION_CHECK_TIMES";  // on TRANS_CHECK_MAX copies
inline constexpr std::string_view kTransactionId = "__transactionId__";
inline constexpr std::string_view kOpKind = "TRAN_OP";              // on op records: see OpKind
inline constexpr std::string_view kOpHalfOffset = "TRAN_HALF_CLO";  // on op records: half commit-log offset
}  // namespace tprop

// What an op record says about the half whose queue offset is its body.
enum class OpKind {
  kCommit,    // committed: the real message was stored (final)
  kRollback,  // rolled back (final)
  kDiscard,   // checked transactionCheckMax times; copied to TRANS_CHECK_MAX_TIME_TOPIC (final)
  kCheck,     // one check round in which the half was due (counts towards transactionCheckMax)
};
std::string_view op_kind_name(OpKind kind) noexcept;
std::optional<OpKind> parse_op_kind(std::string_view name) noexcept;
inline bool is_final(OpKind kind) noexcept {
  return kind != OpKind::kCheck;
}

// The before-store rewrite. PREPARED (sys flag type 0x4): becomes a half in
// RMQ_SYS_TRANS_HALF_TOPIC queue 0 with REAL_TOPIC / REAL_QID / PGROUP / TRAN_MSG and
// __transactionId__ (= UNIQ_KEY) set and the type bits cleared, so the store gives it a
// consume-queue unit in the half topic only. COMMIT / ROLLBACK typed sends are refused.
// A PREPARED send is also refused when it is delayed (DELAY other than 0, any TIMER_*
// property: a half is never delayed; RocketMQ's producer drops DELAY, this broker says so),
// when it targets a system topic (mq::is_system_topic), or when its
// CHECK_IMMUNITY_TIME_IN_SECONDS is not an integer in [0, kMaxImmunitySeconds].
// Anything else is left alone.
Status to_half(StoredMessage& msg);

// Largest CHECK_IMMUNITY_TIME_IN_SECONDS accepted (Java's Integer.MAX_VALUE; * 1000 fits int64).
inline constexpr int64_t kMaxImmunitySeconds = 2147483647;

// The message a COMMIT stores: real topic and queue, type COMMIT, the half's commit-log
// offset as prepared_transaction_offset, without REAL_TOPIC / REAL_QID / TRAN_MSG.
// An error (naming the half) when REAL_TOPIC is empty or a system topic, or REAL_QID is
// missing, not an integer or outside [0, 2^31-1]: such a half is never delivered.
Result<StoredMessage> committed_from_half(const StoredMessage& half);

// The half as a producer's checker sees it: real topic and queue, the half's offsets.
// Same errors as committed_from_half.
Result<StoredMessage> check_view_of_half(const StoredMessage& half);

// The copy stored in TRANS_CHECK_MAX_TIME_TOPIC queue 0 (a plain message, so mqadmin can
// list it); TRANSACTION_CHECK_TIMES records the checks made.
StoredMessage discarded_copy(const StoredMessage& half, int64_t check_times);

// An op record for the half at `half_queue_offset` (body: the offset in decimal).
StoredMessage make_op(QueueOffset half_queue_offset, CommitLogOffset half_offset, OpKind kind,
                      const HostAddress& store_host);
struct ParsedOp {
  QueueOffset half_queue_offset{0};
  OpKind kind = OpKind::kCommit;
};
// nullopt for a record that is not an op record of this plugin.
std::optional<ParsedOp> parse_op(const StoredMessage& op);

// CHECK_IMMUNITY_TIME_IN_SECONDS in ms, or `fallback_ms` when absent, malformed, negative or
// above kMaxImmunitySeconds (to_half refuses such sends; this guards halves stored earlier).
int64_t immunity_ms(const StoredMessage& half, int64_t fallback_ms);

}  // namespace mq::transaction
