// LatencyHistogram: bucket boundaries, precision, percentiles, merge and reset.
#include "histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace mq::bench {
namespace {

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (int64_t v = 0; v < 128; ++v) {
    int i = LatencyHistogram::bucket_index(v);
    EXPECT_EQ(LatencyHistogram::bucket_lowest(i), v);
    EXPECT_EQ(LatencyHistogram::bucket_highest(i), v);
  }
}

TEST(LatencyHistogram, BucketsCoverEveryValueWithBoundedRelativeError) {
  std::vector<int64_t> values = {128, 129, 255, 256, 1000, 65'535, 1'000'000, 123'456'789, INT64_MAX / 3, INT64_MAX};
  for (int64_t v : values) {
    int i = LatencyHistogram::bucket_index(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, LatencyHistogram::kBucketCount);
    EXPECT_LE(LatencyHistogram::bucket_lowest(i), v);
    EXPECT_GE(LatencyHistogram::bucket_highest(i), v);
    double width = static_cast<double>(LatencyHistogram::bucket_highest(i) - LatencyHistogram::bucket_lowest(i));
    EXPECT_LE(width / static_cast<double>(v), 1.0 / 64) << v;
  }
}

TEST(LatencyHistogram, ConsecutiveBucketsAreContiguous) {
  for (int i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(LatencyHistogram::bucket_highest(i) + 1, LatencyHistogram::bucket_lowest(i + 1)) << i;
  }
}

TEST(LatencyHistogram, PercentilesOfUniformSamples) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 100'000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.max(), 100'000);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 50'000, 50'000 / 64.0);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 99'000, 99'000 / 64.0);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.999)), 99'900, 99'900 / 64.0);
  EXPECT_EQ(h.percentile(1.0), 100'000);
}

TEST(LatencyHistogram, EmptyAndNegative) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0);
  h.record(-5);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.percentile(0.5), 0);
}

TEST(LatencyHistogram, OutlierDoesNotMoveMedian) {
  LatencyHistogram h;
  for (int i = 0; i < 999; ++i) h.record(20'000);
  h.record(5'000'000'000);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 20'000, 20'000 / 64.0);
  EXPECT_EQ(h.percentile(1.0), 5'000'000'000);
}

TEST(LatencyHistogram, MergeAndReset) {
  LatencyHistogram a;
  LatencyHistogram b;
  for (int i = 0; i < 100; ++i) a.record(10);
  for (int i = 0; i < 300; ++i) b.record(1000);
  a.merge_from(b);
  EXPECT_EQ(a.count(), 400u);
  EXPECT_EQ(a.percentile(0.25), 10);
  EXPECT_NEAR(static_cast<double>(a.percentile(0.26)), 1000, 1000 / 64.0);
  EXPECT_EQ(a.max(), 1000);
  a.reset();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0);
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 50'000; ++i) h.record(i * (t + 1));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(h.count(), 200'000u);
  EXPECT_EQ(h.max(), 49'999 * 4);
}

}  // namespace
}  // namespace mq::bench
