// io_thread_cpus, choose_io_thread and follow_io_thread: which CPU each io thread is pinned
// to, which io thread serves a new connection and where a connection follows its peer.
#include "io_placement.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace mq::transport_thrift {
namespace {

TEST(IoPlacement, AutoPinsOnlyWhenThereAreAsManyThreadsAsCpus) {
  const std::vector<int> two{0, 1};
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kAuto, 2, two), (std::vector<int>{0, 1}));
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kAuto, 1, two), (std::vector<int>{-1}));
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kAuto, 4, two), (std::vector<int>{-1, -1, -1, -1}));
  // A cpuset of other CPUs: the threads go to those.
  const std::vector<int> set{2, 5};
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kAuto, 2, set), (std::vector<int>{2, 5}));
}

TEST(IoPlacement, OnWrapsAroundAndOffNeverPins) {
  const std::vector<int> two{0, 1};
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kOn, 3, two), (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kOn, 1, two), (std::vector<int>{0}));
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kOff, 2, two), (std::vector<int>{-1, -1}));
  EXPECT_EQ(io_thread_cpus(IoThreadAffinity::kOn, 2, std::vector<int>{}), (std::vector<int>{-1, -1}));
}

TEST(IoPlacement, AConnectionGoesToTheThreadOfItsCpu) {
  const std::vector<int> cpus{0, 1};
  EXPECT_EQ(choose_io_thread(1, cpus, std::vector<uint32_t>{0, 0}), 1u);
  EXPECT_EQ(choose_io_thread(0, cpus, std::vector<uint32_t>{0, 0}), 0u);
  EXPECT_EQ(choose_io_thread(1, cpus, std::vector<uint32_t>{4, 4}), 1u);
  EXPECT_EQ(choose_io_thread(1, cpus, std::vector<uint32_t>{3, 4}), 0u);  // would be two ahead
}

TEST(IoPlacement, ConnectionsFromOneCpuStillSpreadOverTheThreads) {
  const std::vector<int> cpus{0, 1};
  std::vector<uint32_t> loads{0, 0};
  for (int i = 0; i < 100; ++i) ++loads[choose_io_thread(0, cpus, loads)];
  // The thread of CPU 0 is at most kPlacementSlack ahead.
  EXPECT_LE(loads[0] - loads[1], kPlacementSlack);
  EXPECT_GE(loads[0], loads[1]);
  EXPECT_EQ(loads[0] + loads[1], 100u);
}

TEST(IoPlacement, UnknownCpusAndUnpinnedThreadsGoToTheLeastLoaded) {
  const std::vector<int> unpinned{-1, -1, -1};
  EXPECT_EQ(choose_io_thread(1, unpinned, std::vector<uint32_t>{2, 1, 1}), 1u);
  EXPECT_EQ(choose_io_thread(-1, std::vector<int>{0, 1}, std::vector<uint32_t>{1, 0}), 1u);
  // A CPU no thread is pinned to.
  EXPECT_EQ(choose_io_thread(7, std::vector<int>{0, 1}, std::vector<uint32_t>{0, 0}), 0u);
  std::vector<uint32_t> loads{0, 0, 0};
  for (int i = 0; i < 9; ++i) ++loads[choose_io_thread(-1, unpinned, loads)];
  EXPECT_EQ(loads, (std::vector<uint32_t>{3, 3, 3}));
}

TEST(IoPlacement, AConnectionFollowsItsPeerToThePinnedThreadOfItsNewCpu) {
  const std::vector<int> cpus{0, 1};
  EXPECT_EQ(follow_io_thread(0, 1, cpus), std::optional<size_t>(1));
  EXPECT_EQ(follow_io_thread(1, 0, cpus), std::optional<size_t>(0));
  // Already there, unknown CPU, a CPU no thread is pinned to, unpinned threads: it stays.
  EXPECT_EQ(follow_io_thread(1, 1, cpus), std::nullopt);
  EXPECT_EQ(follow_io_thread(0, -1, cpus), std::nullopt);
  EXPECT_EQ(follow_io_thread(0, 7, cpus), std::nullopt);
  EXPECT_EQ(follow_io_thread(0, 1, std::vector<int>{-1, -1}), std::nullopt);
  // Threads wrapped around two CPUs: the first thread of the new CPU; none of the same CPU.
  const std::vector<int> wrapped{0, 1, 0, 1};
  EXPECT_EQ(follow_io_thread(2, 1, wrapped), std::optional<size_t>(1));
  EXPECT_EQ(follow_io_thread(2, 0, wrapped), std::nullopt);
  EXPECT_EQ(follow_io_thread(9, 1, wrapped), std::nullopt);  // not a thread of the pool
}

}  // namespace
}  // namespace mq::transport_thrift
