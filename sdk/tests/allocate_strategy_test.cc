// AllocateMessageQueueAveragely: coverage, balance, contiguity and determinism.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "allocate_strategy.h"

namespace mq::client {
namespace {

std::vector<MessageQueue> make_queues(int brokers, int per_broker) {
  std::vector<MessageQueue> out;
  for (int b = 0; b < brokers; ++b) {
    for (int q = 0; q < per_broker; ++q) out.push_back({"T", "broker-" + std::string(1, char('a' + b)), q});
  }
  return out;
}

std::vector<std::string> make_ids(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("10.0.0." + std::to_string(i) + "@1234@0");
  return out;
}

TEST(AllocateAveragely, EveryQueueAssignedExactlyOnceAndBalanced) {
  for (auto [brokers, per_broker, consumers] : std::vector<std::tuple<int, int, int>>{
           {1, 8, 1}, {1, 8, 3}, {2, 4, 3}, {2, 8, 5}, {1, 4, 4}, {1, 3, 5}, {3, 5, 7}, {2, 16, 6}}) {
    auto queues = make_queues(brokers, per_broker);
    auto ids = make_ids(consumers);
    const size_t n = queues.size();
    std::map<MessageQueue, int> owners;
    size_t min_size = n, max_size = 0;
    for (const auto& id : ids) {
      auto mine = allocate_averagely(id, queues, ids);
      min_size = std::min(min_size, mine.size());
      max_size = std::max(max_size, mine.size());
      for (const auto& q : mine) ++owners[q];
    }
    SCOPED_TRACE(std::to_string(n) + " queues, " + std::to_string(consumers) + " consumers");
    EXPECT_EQ(owners.size(), n);
    for (const auto& [q, count] : owners) EXPECT_EQ(count, 1) << q.to_string();
    EXPECT_LE(max_size - min_size, 1u);
    if (n >= static_cast<size_t>(consumers)) {
      EXPECT_EQ(min_size, n / consumers);
    }
  }
}

TEST(AllocateAveragely, FirstConsumersGetTheRemainderAsConsecutiveRanges) {
  auto queues = make_queues(1, 8);
  auto ids = make_ids(3);  // 8 = 3 + 3 + 2
  auto first = allocate_averagely(ids[0], queues, ids);
  auto second = allocate_averagely(ids[1], queues, ids);
  auto third = allocate_averagely(ids[2], queues, ids);
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 3u);
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(first[0].queue_id, 0);
  EXPECT_EQ(first[2].queue_id, 2);
  EXPECT_EQ(second[0].queue_id, 3);
  EXPECT_EQ(third[0].queue_id, 6);
  EXPECT_EQ(third[1].queue_id, 7);
}

TEST(AllocateAveragely, SameResultWhateverTheInputOrder) {
  auto queues = make_queues(2, 6);
  auto ids = make_ids(5);
  std::mt19937 rng(42);
  for (const auto& id : ids) {
    auto expected = allocate_averagely(id, queues, ids);
    for (int round = 0; round < 10; ++round) {
      auto q = queues;
      auto c = ids;
      std::shuffle(q.begin(), q.end(), rng);
      std::shuffle(c.begin(), c.end(), rng);
      c.push_back(c.front());  // duplicates from several brokers' lists are ignored
      EXPECT_EQ(allocate_averagely(id, q, c), expected);
    }
  }
}

TEST(AllocateAveragely, MoreConsumersThanQueuesLeavesSomeIdle) {
  auto queues = make_queues(1, 2);
  auto ids = make_ids(4);
  EXPECT_EQ(allocate_averagely(ids[0], queues, ids).size(), 1u);
  EXPECT_EQ(allocate_averagely(ids[1], queues, ids).size(), 1u);
  EXPECT_TRUE(allocate_averagely(ids[2], queues, ids).empty());
  EXPECT_TRUE(allocate_averagely(ids[3], queues, ids).empty());
}

TEST(AllocateAveragely, UnknownConsumerOrNoQueuesGetsNothing) {
  auto queues = make_queues(1, 4);
  auto ids = make_ids(2);
  EXPECT_TRUE(allocate_averagely("not-registered", queues, ids).empty());
  EXPECT_TRUE(allocate_averagely(ids[0], {}, ids).empty());
}

}  // namespace
}  // namespace mq::client
