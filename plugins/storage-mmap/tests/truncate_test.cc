// truncate_to (replication divergence): the commit-log tail, its consume-queue units and the
// queue-offset table are dropped at runtime; the store keeps working and restarts cleanly.
#include <filesystem>

#include <gtest/gtest.h>

#include "fake_host.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

StoredMessage msg(int i) {
  StoredMessage m = make_message("Trunc", i % 2, "body-" + std::to_string(i) + std::string(300, 't'));
  m.set_property(prop::kUniqKey, "U" + std::to_string(i));
  return m;
}

TEST(TruncateTest, DropsTheTailAcrossSegmentsAndAppendsAgain) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 600; ++i) puts.push_back(put_wait(*store, msg(i)));  // several 64 KiB segments
  ASSERT_TRUE(store->wait_dispatched(5s));
  const CommitLogOffset cut = puts[100].commit_log_offset;

  // Refused: not a record boundary, beyond the end.
  EXPECT_EQ(store->truncate_to(cut + 1).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(store->truncate_to(store->stats().max_commit_log_offset + 100).status().code(), Code::kInvalidParameter);
  // The end itself is a no-op.
  auto same = store->truncate_to(store->stats().max_commit_log_offset);
  ASSERT_TRUE(same);

  auto r = store->truncate_to(cut);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(*r, cut);
  EXPECT_EQ(store->stats().max_commit_log_offset, cut);
  // Messages 0..99 remain: 50 per queue.
  EXPECT_EQ(store->max_offset("Trunc", 0).value(), 50);
  EXPECT_EQ(store->max_offset("Trunc", 1).value(), 50);
  EXPECT_FALSE(store->read_at(puts[100].commit_log_offset));
  ASSERT_TRUE(store->read_at(puts[99].commit_log_offset));

  // New puts continue the queue offsets from the cut, at the cut.
  PutResult next = put_wait(*store, msg(1000));
  ASSERT_TRUE(next.status) << next.status.to_string();
  EXPECT_EQ(next.commit_log_offset, cut);
  EXPECT_EQ(next.queue_offset.value(), 50);
  ASSERT_TRUE(store->wait_dispatched(5s));
  GetResult g = get_all(*store, "Trunc", 0, 49, 10);
  ASSERT_EQ(g.messages.size(), 2u);
  EXPECT_EQ(g.messages[1].body, msg(1000).body);
  // The key index finds the new record and never a dropped one.
  EXPECT_EQ(store->query_by_key("Trunc", "U1000", 5, 0, INT64_MAX / 2).size(), 1u);
  EXPECT_TRUE(store->query_by_key("Trunc", "U300", 5, 0, INT64_MAX / 2).empty());
  store->stop();

  // A restart recovers exactly the truncated log plus the new record.
  auto again = make_store(small_options(dir.path()));
  ASSERT_TRUE(again->start());
  EXPECT_EQ(again->stats().max_commit_log_offset.value(), cut.value() + next.wrote_bytes);
  EXPECT_EQ(again->max_offset("Trunc", 0).value(), 51);
  EXPECT_EQ(again->max_offset("Trunc", 1).value(), 50);
  again->stop();
}

TEST(TruncateTest, ToTheStartEmptiesTheLog) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(put_wait(*store, msg(i)).status);
  ASSERT_TRUE(store->truncate_to(CommitLogOffset(0)));
  EXPECT_EQ(store->stats().max_commit_log_offset.value(), 0);
  EXPECT_EQ(store->max_offset("Trunc", 0).value(), 0);
  PutResult p = put_wait(*store, msg(5));
  ASSERT_TRUE(p.status);
  EXPECT_EQ(p.commit_log_offset.value(), 0);
  EXPECT_EQ(p.queue_offset.value(), 0);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
