// ProcessQueue commit-offset rules and OffsetStore bookkeeping.
#include <gtest/gtest.h>

#include "offset_store.h"
#include "process_queue.h"

namespace mq::client {
namespace {

std::vector<MessageExt> messages(int64_t from, int64_t to, size_t body_size = 10) {
  std::vector<MessageExt> out;
  for (int64_t o = from; o < to; ++o) {
    MessageExt m;
    m.set_queue_offset(o);
    m.set_body(std::string(body_size, 'x'));
    out.push_back(m);
  }
  return out;
}

TEST(ProcessQueue, CommitOffsetNeverPassesAnUnfinishedMessage) {
  ProcessQueue pq;
  EXPECT_EQ(pq.commit_offset(), -1);
  EXPECT_EQ(pq.put(messages(100, 105)), 5u);
  EXPECT_EQ(pq.commit_offset(), 100);
  EXPECT_EQ(pq.remove({102, 103}), 100);  // out-of-order completion: 100 still pending
  EXPECT_EQ(pq.remove({100}), 101);
  EXPECT_EQ(pq.remove({104}), 101);
  EXPECT_EQ(pq.remove({101}), 105);  // empty: max + 1
  EXPECT_EQ(pq.message_count(), 0u);
  EXPECT_EQ(pq.message_bytes(), 0);
}

TEST(ProcessQueue, CountsBytesAndIgnoresDuplicates) {
  ProcessQueue pq;
  pq.put(messages(0, 3, 100));
  EXPECT_EQ(pq.put(messages(1, 4, 100)), 1u);  // 1 and 2 already held
  EXPECT_EQ(pq.message_count(), 4u);
  EXPECT_EQ(pq.message_bytes(), 400);
  EXPECT_EQ(pq.offset_span(), 3);
  pq.remove({0, 1, 99});  // unknown offsets are ignored
  EXPECT_EQ(pq.message_bytes(), 200);
}

TEST(ProcessQueue, EmptyQueueCommitsThePullFrontierPastFilteredMessages) {
  ProcessQueue pq;
  pq.put(messages(0, 2), 2);
  pq.put({}, 10);  // offsets 2..9 did not match the subscription
  EXPECT_EQ(pq.commit_offset(), 0);
  pq.remove({0, 1});
  EXPECT_EQ(pq.commit_offset(), 10);
}

TEST(ProcessQueue, ResetFrontierMovesTheCommitOffset) {
  ProcessQueue pq;
  pq.put(messages(5, 6), 6);
  pq.remove({5});
  pq.reset_frontier(2);  // PULL_OFFSET_MOVED backwards
  EXPECT_EQ(pq.commit_offset(), 2);
  pq.reset_frontier(50);
  EXPECT_EQ(pq.commit_offset(), 50);
}

TEST(ProcessQueue, DroppedFlag) {
  ProcessQueue pq;
  EXPECT_FALSE(pq.dropped());
  pq.set_dropped();
  EXPECT_TRUE(pq.dropped());
}

TEST(OffsetStore, IncreaseOnlyAndPersistTracking) {
  OffsetStore store;
  MessageQueue q{"T", "b", 0};
  EXPECT_EQ(store.read(q), -1);
  store.update(q, 10, true);
  store.update(q, 7, true);
  EXPECT_EQ(store.read(q), 10);
  store.update(q, 7, false);
  EXPECT_EQ(store.read(q), 7);
  auto pending = store.to_persist();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[q], 7);
  store.mark_persisted(q, 7);
  EXPECT_TRUE(store.to_persist().empty());
  store.update(q, 8, true);
  EXPECT_EQ(store.to_persist().size(), 1u);
  store.remove(q);
  EXPECT_EQ(store.read(q), -1);
  EXPECT_TRUE(store.to_persist().empty());
}

}  // namespace
}  // namespace mq::client
