// SqlFilter: the MessageFilter for SQL92 property subscriptions (RocketMQ's subset):
// comparisons, AND/OR/NOT, IS [NOT] NULL, [NOT] IN, [NOT] BETWEEN over message properties.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mq/message_store.h"
#include "mq/status.h"

namespace mq::kernel {

// Evaluation follows SQL three-valued logic: a missing property is NULL, any comparison
// with NULL is unknown, and a message matches only when the whole expression is true.
// Comparison: numeric when both sides are numbers (a property whose value parses as a
// number counts as one), string comparison when a side is a string literal or both are
// non-numeric properties, = / <> for booleans; any other mix is unknown. Identifiers are
// property names (TAGS is the tag property). Immutable after parse; safe to share.
class SqlFilter final : public MessageFilter {
 public:
  // SUBSCRIPTION_PARSE_FAILED with the 1-based position and the problem when it does not parse.
  static Result<SqlFilter> parse(std::string_view expression);

  const std::string& expression() const noexcept { return expression_; }

  // Tag hashes cannot decide an SQL92 filter: always true (the record check decides).
  bool match_tag_hash(int64_t hash) const override;
  bool match_message(const StoredMessage& msg) const override;

  struct Node;

 private:
  std::string expression_;
  std::shared_ptr<const Node> root_;
};

}  // namespace mq::kernel
