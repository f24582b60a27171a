// Tag subscription expressions: "*" (or empty) matches every message; "TagA || TagB"
// matches messages whose TAGS property is one of the listed tags. The broker filters by tag
// hash; the client re-filters by the tag string (hash collisions), as RocketMQ does.
#pragma once

#include <set>
#include <string>

#include "mq/client/status.h"

namespace mq::client {

class TagFilter {
 public:
  TagFilter() = default;  // matches everything
  // Parses an expression with the broker's rules (an empty tag, or '|', '*' or whitespace
  // inside a tag, is an error); an error names the bad expression.
  static Status parse(const std::string& expression, TagFilter* out);

  bool matches_all() const { return all_; }
  bool matches(const std::string& tags) const;
  const std::set<std::string>& tags() const { return tags_; }
  // The normalized expression sent to the broker: "*" or the tags joined by " || ".
  std::string expression() const;

 private:
  bool all_ = true;
  std::set<std::string> tags_;
};

}  // namespace mq::client
