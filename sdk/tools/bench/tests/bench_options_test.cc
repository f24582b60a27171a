// BenchOptions parsing: modes, both --key value and --key=value, and rejected input.
#include "bench_options.h"

#include <gtest/gtest.h>

namespace mq::bench {
namespace {

TEST(BenchOptions, ParsesEveryKindOfValue) {
  BenchOptions o;
  std::string error;
  ASSERT_TRUE(parse_options({"produce", "--send", "sync", "--batch=64", "--size", "1024", "--connections", "16",
                             "--rate", "5000.5", "--messages", "1000", "--queues", "1024", "--broker-pid", "42",
                             "--from", "last", "--consume", "push", "--label", "x y"},
                            &o, &error))
      << error;
  EXPECT_EQ(o.mode, Mode::kProduce);
  EXPECT_EQ(o.send, SendKind::kSync);
  EXPECT_EQ(o.batch, 64);
  EXPECT_EQ(o.size, 1024);
  EXPECT_EQ(o.producers, 16);
  EXPECT_DOUBLE_EQ(o.rate, 5000.5);
  EXPECT_EQ(o.messages, 1000);
  EXPECT_EQ(o.queues, 1024);
  EXPECT_EQ(o.broker_pid, 42);
  EXPECT_FALSE(o.from_first);
  EXPECT_EQ(o.consume, "push");
  EXPECT_EQ(o.label, "x y");
}

TEST(BenchOptions, Defaults) {
  BenchOptions o;
  std::string error;
  ASSERT_TRUE(parse_options({"e2e"}, &o, &error));
  EXPECT_EQ(o.mode, Mode::kE2e);
  EXPECT_EQ(o.send, SendKind::kAsync);
  EXPECT_EQ(o.batch, 1);
  EXPECT_TRUE(o.from_first);
}

TEST(BenchOptions, RejectsBadInput) {
  BenchOptions o;
  std::string error;
  EXPECT_FALSE(parse_options({}, &o, &error));
  EXPECT_FALSE(parse_options({"fly"}, &o, &error));
  EXPECT_NE(error.find("fly"), std::string::npos);
  EXPECT_FALSE(parse_options({"produce", "--size", "4"}, &o, &error));  // below the 8-byte born time
  EXPECT_NE(error.find("--size"), std::string::npos);
  EXPECT_FALSE(parse_options({"produce", "--batch", "x"}, &o, &error));
  EXPECT_FALSE(parse_options({"produce", "--sned", "sync"}, &o, &error));
  EXPECT_NE(error.find("unknown option --sned"), std::string::npos);
  EXPECT_FALSE(parse_options({"produce", "--send", "maybe"}, &o, &error));
  EXPECT_FALSE(parse_options({"produce", "--rate"}, &o, &error));
  EXPECT_FALSE(parse_options({"produce", "stray"}, &o, &error));
  EXPECT_FALSE(parse_options({"--size", "100"}, &o, &error));
  EXPECT_NE(error.find("missing mode"), std::string::npos);
  EXPECT_FALSE(parse_options({"produce", "--warmup", "-1"}, &o, &error));
  EXPECT_FALSE(parse_options({"consume", "--warmup", "1"}, &o, &error));
  EXPECT_NE(error.find("--warmup applies to produce mode only"), std::string::npos);
  EXPECT_FALSE(parse_options({"produce", "--warmup-wait", "2"}, &o, &error));
  EXPECT_TRUE(parse_options({"produce", "--warmup", "1.5"}, &o, &error)) << error;
  EXPECT_EQ(o.warmup_s, 1.5);
  EXPECT_TRUE(o.warmup_wait);
  EXPECT_TRUE(parse_options({"produce", "--warmup", "1", "--warmup-wait", "0"}, &o, &error)) << error;
  EXPECT_FALSE(o.warmup_wait);
}

TEST(BenchOptions, ModeMayFollowOptions) {
  BenchOptions o;
  std::string error;
  ASSERT_TRUE(parse_options({"--size", "256", "consume", "--from", "last"}, &o, &error)) << error;
  EXPECT_EQ(o.mode, Mode::kConsume);
  EXPECT_EQ(o.size, 256);
  EXPECT_FALSE(o.from_first);
}

}  // namespace
}  // namespace mq::bench
