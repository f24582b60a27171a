// TagFilter: the MessageFilter for a consumer's tag subscription ("*", "", "TagA || TagB").
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>

#include "mq/message_store.h"
#include "mq/status.h"

namespace mq::kernel {

// Immutable after parse; safe to share between threads.
class TagFilter final : public MessageFilter {
 public:
  // "*" or "" (after trimming) match everything. Otherwise tags separated by "||"; each
  // tag is non-empty and contains no '|', '*' or whitespace. Anything else is
  // SUBSCRIPTION_PARSE_FAILED naming the expression.
  static Result<TagFilter> parse(std::string_view expression);

  bool match_all() const noexcept { return match_all_; }
  const std::set<std::string, std::less<>>& tags() const noexcept { return tags_; }

  // Consume-queue check (hash set); may pass on a hash collision.
  bool match_tag_hash(int64_t hash) const override;
  // Exact check on the decoded record's TAGS property.
  bool match_message(const StoredMessage& msg) const override;

 private:
  bool match_all_ = true;
  std::set<std::string, std::less<>> tags_;
  std::unordered_set<int64_t> hashes_;
};

}  // namespace mq::kernel
