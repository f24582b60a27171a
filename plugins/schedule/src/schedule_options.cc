// Option declaration, parsing and validation for the schedule plugin.
#include "schedule_options.h"

#include <boost/any.hpp>

#include "mq/plugin_options.h"

namespace mq::schedule {

namespace po = boost::program_options;

namespace {

constexpr PluginOptions kOptions{kPluginName};

}  // namespace

Result<std::vector<int64_t>> parse_delay_levels(std::string_view spec) {
  std::vector<int64_t> out;
  size_t i = 0;
  while (i < spec.size()) {
    while (i < spec.size() && spec[i] == ' ') ++i;
    if (i == spec.size()) break;
    size_t j = spec.find(' ', i);
    if (j == std::string_view::npos) j = spec.size();
    std::string token(spec.substr(i, j - i));
    i = j;
    size_t digits = 0;
    while (digits < token.size() && token[digits] >= '0' && token[digits] <= '9') ++digits;
    std::string unit = token.substr(digits);
    int64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60 * 1000;
    else if (unit == "h")
      scale = 3600 * 1000;
    else if (unit == "d")
      scale = 24 * 3600 * 1000;
    if (digits == 0 || digits > 9 || scale == 0)
      return Status::invalid("[schedule] messageDelayLevel token '" + token +
                             "' is not a delay: write a number followed by ms, s, m, h or d (e.g. \"1s 5s 10s\")");
    int64_t value = std::stoll(token.substr(0, digits)) * scale;
    if (value <= 0)
      return Status::invalid("[schedule] messageDelayLevel token '" + token + "' is not a positive delay");
    out.push_back(value);
  }
  if (out.empty())
    return Status::invalid("[schedule] messageDelayLevel '" + std::string(spec) +
                           "' names no level; the default is \"" + kDefaultDelayLevels + "\"");
  if (out.size() > 64)
    return Status::invalid("[schedule] messageDelayLevel names " + std::to_string(out.size()) +
                           " levels; at most 64 are allowed");
  return out;
}

void declare_schedule_options(po::options_description& out) {
  ScheduleOptions d;
  out.add_options()(kOptions.key("messageDelayLevel").c_str(),
                    po::value<std::string>()->default_value(d.message_delay_level),
                    "delay of each level (DELAY=1 is the first), space-separated, units ms s m h d")(
      kOptions.key("flushDelayOffsetInterval").c_str(),
      po::value<int64_t>()->default_value(d.flush_delay_offset_interval_ms),
      "milliseconds between persisting delivery progress (delayOffset.json, timer files)")(
      kOptions.key("timerMaxDelayMs").c_str(), po::value<int64_t>()->default_value(d.timer_max_delay_ms),
      "largest accepted TIMER_* delay in milliseconds (default 3 days)");
}

Result<ScheduleOptions> parse_schedule_options(const po::variables_map& vm) {
  ScheduleOptions o;
  if (auto it = vm.find("storePathRootDir"); it != vm.end() && !it->second.empty()) {
    if (const auto* s = boost::any_cast<std::string>(&it->second.value())) o.store_root = *s;
  }
  if (Status st = kOptions.read_string(vm, "messageDelayLevel", &o.message_delay_level); !st) return st;
  auto levels = parse_delay_levels(o.message_delay_level);
  if (!levels) return levels.status();
  o.level_delay_ms = std::move(levels).value();
  if (Status st = kOptions.read_int(vm, "flushDelayOffsetInterval", &o.flush_delay_offset_interval_ms); !st) return st;
  if (Status st = kOptions.read_int(vm, "timerMaxDelayMs", &o.timer_max_delay_ms); !st) return st;
  if (o.flush_delay_offset_interval_ms < 10 || o.flush_delay_offset_interval_ms > 3600 * 1000)
    return kOptions.bad("flushDelayOffsetInterval", std::to_string(o.flush_delay_offset_interval_ms),
                        "10 to 3600000 ms (default 10000)");
  if (o.timer_max_delay_ms < 1000 || o.timer_max_delay_ms > 30LL * 24 * 3600 * 1000)
    return kOptions.bad("timerMaxDelayMs", std::to_string(o.timer_max_delay_ms),
                        "1000 ms to 30 days in ms (default 259200000, 3 days)");
  return o;
}

}  // namespace mq::schedule
