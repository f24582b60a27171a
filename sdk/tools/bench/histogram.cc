// LatencyHistogram: bucket arithmetic and percentile scan.
#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mq::bench {

int LatencyHistogram::bucket_index(int64_t value) {
  uint64_t v = value < 0 ? 0 : static_cast<uint64_t>(value);
  if (v < 2 * kSubBuckets) return static_cast<int>(v);
  int shift = std::bit_width(v) - 7;  // keeps the top 7 bits: (v >> shift) in [64, 127]
  return 2 * kSubBuckets + (shift - 1) * kSubBuckets + static_cast<int>((v >> shift) - kSubBuckets);
}

int64_t LatencyHistogram::bucket_lowest(int index) {
  if (index < 2 * kSubBuckets) return index;
  int shift = (index - 2 * kSubBuckets) / kSubBuckets + 1;
  int64_t mantissa = (index - 2 * kSubBuckets) % kSubBuckets + kSubBuckets;
  return mantissa << shift;
}

int64_t LatencyHistogram::bucket_highest(int index) {
  if (index < 2 * kSubBuckets) return index;
  int shift = (index - 2 * kSubBuckets) / kSubBuckets + 1;
  return bucket_lowest(index) + (int64_t{1} << shift) - 1;
}

void LatencyHistogram::record(int64_t value) {
  if (value < 0) value = 0;
  counts_[bucket_index(value)].fetch_add(1, std::memory_order_relaxed);
  int64_t seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

void LatencyHistogram::merge_from(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) {
    uint64_t c = other.counts_[i].load(std::memory_order_relaxed);
    if (c != 0) counts_[i].fetch_add(c, std::memory_order_relaxed);
  }
  int64_t other_max = other.max();
  int64_t seen = max_.load(std::memory_order_relaxed);
  while (other_max > seen && !max_.compare_exchange_weak(seen, other_max, std::memory_order_relaxed)) {
  }
}

void LatencyHistogram::reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

uint64_t LatencyHistogram::count() const {
  uint64_t total = 0;
  for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
  return total;
}

int64_t LatencyHistogram::percentile(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto target = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (target == 0) target = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i].load(std::memory_order_relaxed);
    if (seen >= target) return std::min(bucket_highest(i), max());
  }
  return max();
}

}  // namespace mq::bench
