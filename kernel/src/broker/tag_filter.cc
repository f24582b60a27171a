// TagFilter parsing and matching, RocketMQ FilterAPI semantics with stricter syntax checks.
#include "broker/tag_filter.h"

#include <cctype>

namespace mq::kernel {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TagFilter> TagFilter::parse(std::string_view expression) {
  TagFilter filter;
  std::string_view expr = trim(expression);
  if (expr.empty() || expr == "*") return filter;

  auto fail = [&](const std::string& why) {
    return Status(Code::kSubscriptionParseFailed,
                  "subscription expression '" + std::string(expression) + "' " + why +
                      "; use '*' or tags separated by '||', e.g. 'TagA || TagB'");
  };
  filter.match_all_ = false;
  size_t pos = 0;
  while (true) {
    size_t sep = expr.find("||", pos);
    std::string_view part = trim(expr.substr(pos, sep == std::string_view::npos ? std::string_view::npos : sep - pos));
    if (part.empty()) return fail("has an empty tag");
    for (char c : part) {
      if (c == '|' || c == '*' || std::isspace(static_cast<unsigned char>(c)))
        return fail("has tag '" + std::string(part) + "' containing '" + std::string(1, c) + "'");
    }
    filter.hashes_.insert(tag_hash(part));
    filter.tags_.emplace(part);
    if (sep == std::string_view::npos) break;
    pos = sep + 2;
  }
  return filter;
}

bool TagFilter::match_tag_hash(int64_t hash) const { return match_all_ || hashes_.count(hash) > 0; }

bool TagFilter::match_message(const StoredMessage& msg) const {
  return match_all_ || tags_.find(msg.tags()) != tags_.end();
}

}  // namespace mq::kernel
