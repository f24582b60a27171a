// TagFilter implementation.
#include "tag_filter.h"

namespace mq::client {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

Status TagFilter::parse(const std::string& expression, TagFilter* out) {
  TagFilter filter;
  std::string expr = trim(expression);
  if (expr.empty() || expr == "*") {
    *out = filter;
    return Status::ok();
  }
  filter.all_ = false;
  size_t pos = 0;
  while (pos <= expr.size()) {
    size_t bar = expr.find("||", pos);
    std::string tag = trim(expr.substr(pos, bar == std::string::npos ? std::string::npos : bar - pos));
    if (!tag.empty()) {
      if (tag == "*") {
        filter.all_ = true;
        filter.tags_.clear();
        break;
      }
      filter.tags_.insert(tag);
    }
    if (bar == std::string::npos) break;
    pos = bar + 2;
  }
  if (!filter.all_ && filter.tags_.empty()) {
    return Status(code::kIllegalArgument,
                  "subscription expression '" + expression + "' lists no tag; use \"*\" or \"TagA || TagB\"");
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
