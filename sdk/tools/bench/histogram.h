// LatencyHistogram: an HdrHistogram-style log-bucketed histogram of non-negative integers
// (nanoseconds in mqbench) with bounded memory (3,712 counters) and < 1/64 relative error.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace mq::bench {

// Thread-safe: record() may run concurrently with record(), percentile() and merge_from()
// (relaxed atomics: a concurrent reader sees a slightly stale but consistent-enough view).
class LatencyHistogram {
 public:
  // Values below 2 * kSubBuckets are exact; above, each power of two is split in kSubBuckets.
  static constexpr int kSubBuckets = 64;
  static constexpr int kBucketCount = 2 * kSubBuckets + 56 * kSubBuckets;

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void record(int64_t value);  // negative values count as 0
  void merge_from(const LatencyHistogram& other);
  void reset();

  uint64_t count() const;
  int64_t max() const { return max_.load(std::memory_order_relaxed); }
  // The smallest recorded-bucket value v such that at least q (0..1) of the samples are <= v
  // (the highest value equivalent to the bucket, capped at max()); 0 when empty.
  int64_t percentile(double q) const;

  static int bucket_index(int64_t value);
  static int64_t bucket_lowest(int index);
  static int64_t bucket_highest(int index);

 private:
  std::array<std::atomic<uint64_t>, kBucketCount> counts_{};
  std::atomic<int64_t> max_{0};
};

}  // namespace mq::bench
