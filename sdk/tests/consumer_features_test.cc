// Consumer bookkeeping without a broker: circle allocation, the broadcasting local offset
// file, orderly lock table and buffer, lite pull offsets.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "allocate_strategy.h"
#include "lite_pull_offsets.h"
#include "local_offset_store.h"
#include "orderly.h"

namespace mq::client {
namespace {

std::vector<MessageQueue> queues(int n) {
  std::vector<MessageQueue> out;
  for (int i = 0; i < n; ++i) out.push_back(MessageQueue{"T", "b", i});
  return out;
}

TEST(AllocateByCircle, EachConsumerTakesEveryNth) {
  std::vector<std::string> ids{"c2", "c0", "c1"};  // unsorted on purpose
  auto q = queues(8);
  EXPECT_EQ(allocate_averagely_by_circle("c0", q, ids), (std::vector<MessageQueue>{q[0], q[3], q[6]}));
  EXPECT_EQ(allocate_averagely_by_circle("c1", q, ids), (std::vector<MessageQueue>{q[1], q[4], q[7]}));
  EXPECT_EQ(allocate_averagely_by_circle("c2", q, ids), (std::vector<MessageQueue>{q[2], q[5]}));
  EXPECT_TRUE(allocate_averagely_by_circle("stranger", q, ids).empty());
  // Together: every queue exactly once.
  std::multiset<MessageQueue> all;
  for (const auto& id : ids) {
    for (const auto& x : allocate_averagely_by_circle(id, q, ids)) all.insert(x);
  }
  EXPECT_EQ(all.size(), 8u);
  EXPECT_EQ(std::set<MessageQueue>(all.begin(), all.end()).size(), 8u);
  // More consumers than queues: the last ones get nothing.
  std::vector<std::string> many{"a", "b", "c", "d"};
  EXPECT_EQ(allocate_averagely_by_circle("d", queues(2), many).size(), 0u);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sdk_offsets_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LocalOffsetFile, SaveReloadAndAtomicReplace) {
  TempDir dir;
  const std::string sub = dir.path() + "/client@x/group";
  LocalOffsetFile file(sub);
  std::map<MessageQueue, int64_t> loaded{{MessageQueue{"x", "y", 1}, 5}};
  ASSERT_TRUE(file.load(&loaded));  // missing file: empty table
  EXPECT_TRUE(loaded.empty());
  std::map<MessageQueue, int64_t> table{{MessageQueue{"T@odd", "broker-a", 0}, 42},
                                        {MessageQueue{"T", "broker-b", 7}, 0}};
  ASSERT_TRUE(file.save(table));
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".tmp"));  // renamed into place
  ASSERT_TRUE(file.load(&loaded));
  EXPECT_EQ(loaded, table);
  table[MessageQueue{"T", "broker-b", 7}] = 99;
  ASSERT_TRUE(file.save(table));
  LocalOffsetFile again(sub);  // a new consumer instance reads what the last one wrote
  ASSERT_TRUE(again.load(&loaded));
  EXPECT_EQ(loaded.at(MessageQueue{"T", "broker-b", 7}), 99);
  // A stale temp file from a crash mid-write does not affect the table.
  std::ofstream(file.path() + ".tmp") << "{ torn";
  ASSERT_TRUE(again.load(&loaded));
  EXPECT_EQ(loaded, table);
}

TEST(LocalOffsetFile, CorruptFileIsAClearError) {
  TempDir dir;
  LocalOffsetFile file(dir.path());
  std::ofstream(file.path()) << "not json";
  std::map<MessageQueue, int64_t> loaded;
  Status s = file.load(&loaded);
  EXPECT_FALSE(s);
  EXPECT_NE(s.remark().find(file.path()), std::string::npos);
  std::ofstream(file.path(), std::ios::trunc) << R"({"no-separators": 1})";
  EXPECT_FALSE(file.load(&loaded));
}

TEST(QueueLockTable, LockedOnlyWhileRenewed) {
  QueueLockTable table;
  auto q = queues(3);
  EXPECT_FALSE(table.is_locked(q[0], 0));
  table.on_lock_result({q[0], q[1], q[2]}, {q[0], q[2]}, 1000);
  EXPECT_TRUE(table.is_locked(q[0], 1000));
  EXPECT_FALSE(table.is_locked(q[1], 1000));  // another client holds it
  EXPECT_TRUE(table.is_locked(q[2], 1000 + QueueLockTable::kLockMaxLiveMs - 1));
  EXPECT_FALSE(table.is_locked(q[2], 1000 + QueueLockTable::kLockMaxLiveMs));  // not renewed: lost
  table.on_lock_result({q[0], q[2]}, {q[0]}, 20000);  // renewal: q[2] now refused
  EXPECT_TRUE(table.is_locked(q[0], 40000));
  EXPECT_FALSE(table.is_locked(q[2], 20000));
  EXPECT_EQ(table.held(), (std::vector<MessageQueue>{q[0]}));
  table.forget(q[0]);
  EXPECT_FALSE(table.is_locked(q[0], 20000));
  EXPECT_TRUE(table.held().empty());
}

MessageExt at(int64_t offset) {
  MessageExt m;
  m.set_queue_offset(offset);
  m.set_body("m" + std::to_string(offset));
  return m;
}

std::vector<int64_t> offsets_of(const std::vector<MessageExt>& ms) {
  std::vector<int64_t> out;
  for (const auto& m : ms) out.push_back(m.queue_offset());
  return out;
}

TEST(OrderlyBuffer, OneBatchAtATimeInOffsetOrderWithRollback) {
  OrderlyBuffer buf;
  buf.put({at(12), at(10), at(11)});
  buf.put({at(10)});  // duplicate ignored
  EXPECT_EQ(buf.size(), 3u);
  auto first = buf.take(2);
  EXPECT_EQ(offsets_of(first), (std::vector<int64_t>{10, 11}));
  EXPECT_TRUE(buf.consuming());
  EXPECT_TRUE(buf.take(2).empty());  // one batch at a time
  buf.put({at(11)});                 // re-pulled while consuming: not duplicated
  buf.rollback();                    // SUSPEND: the same batch comes back first
  EXPECT_EQ(offsets_of(buf.take(2)), (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(buf.commit(), (std::vector<int64_t>{10, 11}));
  EXPECT_FALSE(buf.consuming());
  buf.put({at(13)});
  EXPECT_EQ(offsets_of(buf.take(5)), (std::vector<int64_t>{12, 13}));
  EXPECT_EQ(buf.commit(), (std::vector<int64_t>{12, 13}));
  EXPECT_EQ(buf.size(), 0u);
}

TEST(LitePullOffsets, CommitsOnlyWhatPollReturned) {
  LitePullOffsets o;
  auto q = queues(3);
  EXPECT_TRUE(o.assign({q[0], q[1]}).empty());
  EXPECT_EQ(o.next_pull(q[0]), -1);
  o.set_next_pull(q[0], 100);
  EXPECT_TRUE(o.to_commit().empty());  // nothing returned yet
  o.set_next_pull(q[0], 132);          // pulled 100..131
  o.on_returned(q[0], 131);
  EXPECT_EQ(o.to_commit(), (std::map<MessageQueue, int64_t>{{q[0], 132}}));
  o.mark_committed(q[0], 132);
  EXPECT_TRUE(o.to_commit().empty());
  o.on_returned(q[0], 120);  // never moves the commit point backwards
  EXPECT_TRUE(o.to_commit().empty());
  o.seek(q[1], 7);
  EXPECT_EQ(o.next_pull(q[1]), 7);
  EXPECT_EQ(o.to_commit().at(q[1]), 7);
  o.seek(q[2], 5);  // not assigned: ignored
  EXPECT_FALSE(o.contains(q[2]));
  // Reassignment keeps q[1]'s state, drops q[0] (returned), adds q[2].
  EXPECT_EQ(o.assign({q[1], q[2]}), (std::vector<MessageQueue>{q[0]}));
  EXPECT_EQ(o.next_pull(q[1]), 7);
  EXPECT_EQ(o.next_pull(q[2]), -1);
  EXPECT_EQ(o.queues(), (std::vector<MessageQueue>{q[1], q[2]}));
}

}  // namespace
}  // namespace mq::client
