// The schedule plugin's options ("schedule.<key>"), their defaults, parsing and validation,
// and the delay-level list parser ("1s 5s 10s ..." with units ms s m h d).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace mq::schedule {

inline constexpr const char* kPluginName = "schedule";
inline constexpr const char* kDefaultDelayLevels = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

struct ScheduleOptions {
  std::string store_root;  // global storePathRootDir; empty: take the HostContext identity
  std::string message_delay_level = kDefaultDelayLevels;
  std::vector<int64_t> level_delay_ms;                  // parsed: level N (1-based) -> level_delay_ms[N-1]
  int64_t flush_delay_offset_interval_ms = 10000;       // flushDelayOffsetInterval
  int64_t timer_max_delay_ms = 3LL * 24 * 3600 * 1000;  // timerMaxDelayMs: 3 days
  // brokerId > 0: a slave never delivers or stores (its log is a copy of the master's, and
  // delayOffset.json arrives by replication); requests are answered SLAVE_NOT_AVAILABLE.
  bool is_slave = false;
};

// "1s 5s 500ms 2h" -> {1000, 5000, 500, 7200000}. Error names the token at fault.
Result<std::vector<int64_t>> parse_delay_levels(std::string_view spec);

void declare_schedule_options(boost::program_options::options_description& out);
Result<ScheduleOptions> parse_schedule_options(const boost::program_options::variables_map& vm);

}  // namespace mq::schedule
