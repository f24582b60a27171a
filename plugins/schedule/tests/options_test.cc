// Options and delay-level parsing of the schedule plugin.
#include <gtest/gtest.h>

#include <boost/program_options.hpp>

#include "schedule_options.h"

namespace mq::schedule {
namespace {

namespace po = boost::program_options;

po::variables_map parse(const std::vector<std::string>& args) {
  po::options_description desc;
  declare_schedule_options(desc);
  std::vector<const char*> argv{"x"};
  for (const auto& a : args) argv.push_back(a.c_str());
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), desc), vm);
  po::notify(vm);
  return vm;
}

TEST(DelayLevels, DefaultIsRocketMqEighteenLevels) {
  auto levels = parse_delay_levels(kDefaultDelayLevels);
  ASSERT_TRUE(levels.is_ok());
  ASSERT_EQ(levels->size(), 18u);
  EXPECT_EQ(levels->front(), 1000);
  EXPECT_EQ((*levels)[4], 60000);
  EXPECT_EQ(levels->back(), 2 * 3600 * 1000);
}

TEST(DelayLevels, AllUnitsIncludingMilliseconds) {
  auto levels = parse_delay_levels(" 50ms 2s  3m 1h 1d ");
  ASSERT_TRUE(levels.is_ok()) << levels.status().to_string();
  EXPECT_EQ(*levels, (std::vector<int64_t>{50, 2000, 180000, 3600000, 86400000}));
}

TEST(DelayLevels, BadTokenIsNamed) {
  for (const char* bad : {"1s 5x", "s", "1s -2s", "", "10"}) {
    auto levels = parse_delay_levels(bad);
    ASSERT_FALSE(levels.is_ok()) << bad;
    EXPECT_NE(levels.status().message().find("messageDelayLevel"), std::string::npos);
  }
  auto levels = parse_delay_levels("1s 5x");
  EXPECT_NE(levels.status().message().find("'5x'"), std::string::npos) << levels.status().message();
}

TEST(ScheduleOptions, DefaultsAndOverrides) {
  auto defaults = parse_schedule_options(parse({}));
  ASSERT_TRUE(defaults.is_ok());
  EXPECT_EQ(defaults->level_delay_ms.size(), 18u);
  EXPECT_EQ(defaults->flush_delay_offset_interval_ms, 10000);
  EXPECT_EQ(defaults->timer_max_delay_ms, 3LL * 24 * 3600 * 1000);
  auto custom =
      parse_schedule_options(parse({"--schedule.messageDelayLevel=100ms 200ms",
                                    "--schedule.flushDelayOffsetInterval=500", "--schedule.timerMaxDelayMs=60000"}));
  ASSERT_TRUE(custom.is_ok()) << custom.status().to_string();
  EXPECT_EQ(custom->level_delay_ms, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(custom->flush_delay_offset_interval_ms, 500);
  EXPECT_EQ(custom->timer_max_delay_ms, 60000);
}

TEST(ScheduleOptions, OutOfRangeValuesAreRefusedWithTheKey) {
  auto bad = parse_schedule_options(parse({"--schedule.flushDelayOffsetInterval=0"}));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("flushDelayOffsetInterval=0"), std::string::npos);
  auto bad_levels = parse_schedule_options(parse({"--schedule.messageDelayLevel=1q"}));
  ASSERT_FALSE(bad_levels.is_ok());
}

}  // namespace
}  // namespace mq::schedule
