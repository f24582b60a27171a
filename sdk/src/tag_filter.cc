// TagFilter implementation.
#include "tag_filter.h"

#include <cctype>

namespace mq::client {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

// Same grammar as the broker (kernel/src/broker/tag_filter.cc), whose rules win: after
// trimming, "*" or "" match everything; otherwise tags separated by "||", each non-empty
// and free of '|', '*' and whitespace. So "A || || B" and "A || *" are errors here too.
Status TagFilter::parse(const std::string& expression, TagFilter* out) {
  TagFilter filter;
  const std::string expr = trim(expression);
  if (expr.empty() || expr == "*") {
    *out = filter;
    return Status::ok();
  }
  auto fail = [&](const std::string& why) {
    return Status(code::kIllegalArgument, "subscription expression '" + expression + "' " + why +
                                              "; use \"*\" or tags separated by \"||\", e.g. \"TagA || TagB\"");
  };
  filter.all_ = false;
  size_t pos = 0;
  while (true) {
    const size_t bar = expr.find("||", pos);
    const std::string tag = trim(expr.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos));
    if (tag.empty()) return fail("has an empty tag");
    for (char c : tag) {
      if (c == '|' || c == '*' || is_space(c))
        return fail("has tag '" + tag + "' containing '" + std::string(1, c) + "'");
    }
    filter.tags_.insert(tag);
    if (bar == std::string::npos) break;
    pos = bar + 2;
  }
  *out = std::move(filter);
  return Status::ok();
}

bool TagFilter::matches(const std::string& tags) const { return all_ || tags_.count(tags) > 0; }

std::string TagFilter::expression() const {
  if (all_) return "*";
  std::string out;
  for (const auto& t : tags_) {
    if (!out.empty()) out += " || ";
    out += t;
  }
  return out;
}

}  // namespace mq::client
