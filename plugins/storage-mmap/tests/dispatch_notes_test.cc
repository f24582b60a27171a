// Dispatch notes: a note says what parsing its record would; the hand-over is bounded; the
// dispatcher parses records without notes and never uses a note of bytes a truncation
// replaced.
#include "dispatch_notes.h"

#include <vector>

#include <gtest/gtest.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "fake_host.h"

namespace mq::storage_mmap {
namespace {

using testing::FakeHost;
using testing::make_message;
using testing::TempDir;

const HostAddress kStoreHost{0x7F000001, 10911};

StoredMessage message_with(const std::string& topic, QueueId queue, const std::string& tags, const std::string& keys,
                           const std::string& uniq, int32_t sys_flag = 0) {
  StoredMessage m = make_message(topic, queue, "body of " + topic);
  m.properties.erase(std::string(prop::kKeys));
  if (!tags.empty()) m.set_property(prop::kTags, tags);
  if (!keys.empty()) m.set_property(prop::kKeys, keys);
  if (!uniq.empty()) m.set_property(prop::kUniqKey, uniq);
  m.set_property("OTHER", "x");
  m.sys_flag = sys_flag;
  return m;
}

TEST(DispatchNotesTest, NoteSummaryEqualsTheParsedRecord) {
  const std::vector<StoredMessage> messages = {
      message_with("T", 0, "", "", ""),
      message_with("Tagged", 3, "TagA", "k1 k2", "0A0000010000AB"),
      message_with(std::string(127, 't'), 7, "x", std::string(3000, 'k'), "U"),
      message_with("Prepared", 1, "t", "", "id", kTransactionPreparedType),
      // Consecutive records of one topic share its text; then the topic changes back.
      message_with("Prepared", 2, "t2", "k", ""),
      message_with("T", 0, "", "k9", "u9"),
  };
  DispatchNoteBatch batch;
  std::vector<std::string> records;
  int64_t offset = 4096;
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string props;
    RecordPlan plan;
    plan_record(messages[i], kStoreHost, &props, &plan);
    std::string rec(static_cast<size_t>(plan.size), '\0');
    write_record(rec.data(), plan, 40 + static_cast<int64_t>(i), offset, 1700000000123 + static_cast<int64_t>(i));
    batch.add(offset, plan.size, plan, messages[i].queue_id, 40 + static_cast<int64_t>(i),
              1700000000123 + static_cast<int64_t>(i));
    offset += plan.size;
    records.push_back(std::move(rec));
  }
  ASSERT_EQ(batch.size(), messages.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordSummary parsed = summarize_record(records[i].data());
    const RecordSummary noted = batch.summary(i);
    EXPECT_EQ(batch.record_size(i), static_cast<int32_t>(records[i].size())) << i;
    EXPECT_EQ(noted.topic, parsed.topic) << i;
    EXPECT_EQ(noted.queue_id, parsed.queue_id) << i;
    EXPECT_EQ(noted.queue_offset, parsed.queue_offset) << i;
    EXPECT_EQ(noted.sys_flag, parsed.sys_flag) << i;
    EXPECT_EQ(noted.store_timestamp_ms, parsed.store_timestamp_ms) << i;
    EXPECT_EQ(noted.tag_hash, parsed.tag_hash) << i;
    EXPECT_EQ(noted.keys, parsed.keys) << i;
    EXPECT_EQ(noted.uniq_key, parsed.uniq_key) << i;
  }
  EXPECT_NE(batch.summary(1).tag_hash, 0);
  EXPECT_EQ(batch.summary(1).keys, "k1 k2");
}

void add_notes(DispatchNoteBatch& batch, int64_t first_offset, size_t n) {
  const StoredMessage m = message_with("Bound", 0, "t", "k", "u");
  std::string props;
  RecordPlan plan;
  plan_record(m, kStoreHost, &props, &plan);
  for (size_t i = 0; i < n; ++i)
    batch.add(first_offset + static_cast<int64_t>(i) * plan.size, plan.size, plan, 0, static_cast<int64_t>(i), 1);
}

TEST(DispatchNotesTest, TakeGetsEverythingPublishedInOrderAndOverTheBoundNotesAreDropped) {
  DispatchNotes notes;
  DispatchNoteBatch batch;
  DispatchNoteBatch taken;
  EXPECT_FALSE(notes.take(taken));
  add_notes(batch, 0, 3);
  notes.publish(batch);
  EXPECT_TRUE(batch.empty());
  add_notes(batch, 1000, 2);
  notes.publish(batch);  // appended behind the first (text positions shifted)
  ASSERT_TRUE(notes.take(taken));
  ASSERT_EQ(taken.size(), 5u);
  EXPECT_EQ(taken.offset(0), 0);
  EXPECT_EQ(taken.offset(3), 1000);
  EXPECT_EQ(taken.summary(4).topic, "Bound");
  EXPECT_EQ(taken.summary(4).uniq_key, "u");
  EXPECT_FALSE(notes.has_notes());

  taken.clear();
  add_notes(batch, 0, DispatchNotes::kMaxNotes);
  notes.publish(batch);
  add_notes(batch, 1 << 30, 1);
  notes.publish(batch);  // the dispatcher has not taken kMaxNotes: dropped
  EXPECT_EQ(notes.dropped(), 1u);
  ASSERT_TRUE(notes.take(taken));
  EXPECT_EQ(taken.size(), DispatchNotes::kMaxNotes);

  add_notes(batch, 0, 1);
  notes.publish(batch);
  notes.clear();
  taken.clear();
  EXPECT_FALSE(notes.take(taken));
}

TEST(DispatchNotesTest, BatchesOfManyNotesAreQueuedWholeAndTakenOldestFirst) {
  DispatchNotes notes;
  DispatchNoteBatch batch;
  DispatchNoteBatch taken;
  const size_t many = DispatchNotes::kCopyBelow;
  add_notes(batch, 0, many);
  notes.publish(batch);
  add_notes(batch, 1000000, many);
  notes.publish(batch);  // queued as a batch of its own
  add_notes(batch, 2000000, 1);
  notes.publish(batch);  // a small one joins the newest batch
  ASSERT_TRUE(notes.take(taken));
  ASSERT_EQ(taken.size(), many);
  EXPECT_EQ(taken.offset(0), 0);
  EXPECT_TRUE(notes.has_notes());
  taken.clear();
  ASSERT_TRUE(notes.take(taken));
  ASSERT_EQ(taken.size(), many + 1);
  EXPECT_EQ(taken.offset(0), 1000000);
  EXPECT_EQ(taken.offset(many), 2000000);
  EXPECT_EQ(taken.summary(many).uniq_key, "u");
  EXPECT_FALSE(notes.has_notes());
  taken.clear();
  EXPECT_FALSE(notes.take(taken));

  // The bound counts every queued batch: the dispatcher taking one frees its notes.
  for (size_t published = 0; published < DispatchNotes::kMaxNotes; published += many) {
    add_notes(batch, static_cast<int64_t>(published), many);
    notes.publish(batch);
  }
  add_notes(batch, 1 << 30, many);
  notes.publish(batch);
  EXPECT_EQ(notes.dropped(), many);
  ASSERT_TRUE(notes.take(taken));
  add_notes(batch, 1 << 30, many);
  notes.publish(batch);
  EXPECT_EQ(notes.dropped(), many);
}

// A commit log with notes, its consume queues and a dispatcher that is not started
// (dispatch_available on this thread).
struct NotedLog {
  explicit NotedLog(const std::string& dir)
      : host(dir),
        log(dir + "/commitlog", 1 << 20),
        queues(dir + "/consumequeue", 6000 * 20),
        dispatcher(log, queues, nullptr, std::chrono::milliseconds(50), host.logger("storage-mmap")) {
    EXPECT_TRUE(log.load());
    EXPECT_TRUE(queues.load());
    log.enable_dispatch_notes();
  }
  std::vector<AppendOutcome> append(const StoredMessage& m, size_t n) {
    std::string props;
    RecordPlan plan;
    plan_record(m, kStoreHost, &props, &plan);
    std::vector<AppendItem> items(n, AppendItem{nullptr, m.topic, m.queue_id, true, {}, &plan});
    std::vector<AppendOutcome> out;
    Status st = log.append(items, &out);
    EXPECT_TRUE(st) << st.to_string();
    return out;
  }
  FakeHost host;
  CommitLog log;
  ConsumeQueueStore queues;
  Dispatcher dispatcher;
};

TEST(DispatchNotesTest, DispatcherParsesTheRecordsWhoseNotesWereDropped) {
  TempDir dir;
  NotedLog t(dir.path());
  // More appends than the hand-over holds while nobody takes them: the last ones have no note.
  std::vector<AppendOutcome> outs;
  const size_t per_call = 1000;
  const size_t calls = DispatchNotes::kMaxNotes / per_call + 3;
  for (size_t c = 0; c < calls; ++c) {
    const QueueId queue = static_cast<QueueId>(c % 2);
    auto o = t.append(message_with("Noted", queue, c % 3 == 0 ? "even" : "odd", "k", ""), per_call);
    outs.insert(outs.end(), o.begin(), o.end());
  }
  ASSERT_GT(t.log.dispatch_notes().dropped(), 0u);
  auto n = t.dispatcher.dispatch_available(false);
  ASSERT_TRUE(n) << n.status().to_string();
  EXPECT_EQ(*n, outs.size());
  EXPECT_EQ(t.dispatcher.dispatched(), t.log.write_pos());
  for (QueueId q : {0, 1}) {
    auto cq = t.queues.find("Noted", q);
    ASSERT_TRUE(cq);
    EXPECT_EQ(cq->max_offset(), static_cast<int64_t>(per_call * ((calls + 1 - static_cast<size_t>(q)) / 2)));
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const size_t c = i / per_call;
    CqUnit unit;
    ASSERT_TRUE(t.queues.find("Noted", static_cast<QueueId>(c % 2))->read_unit(outs[i].queue_offset, &unit)) << i;
    EXPECT_EQ(unit.commit_log_offset, outs[i].offset) << i;
    EXPECT_EQ(unit.size, outs[i].size) << i;
    EXPECT_EQ(unit.tag_hash, tag_hash(c % 3 == 0 ? "even" : "odd")) << i;
  }
}

TEST(DispatchNotesTest, NotesOfTruncatedBytesAreNeverUsed) {
  TempDir dir;
  NotedLog t(dir.path());
  auto kept = t.append(message_with("Kept", 0, "", "", ""), 2);
  auto cut = t.append(message_with("Cut", 1, "", "", ""), 3);
  // (A replica truncates its log at a record boundary, then appends what the master has.)
  ASSERT_TRUE(t.log.truncate(cut.front().offset));
  auto replaced = t.append(message_with("Replaced", 2, "r", "", ""), 3);
  ASSERT_EQ(replaced.front().offset, cut.front().offset);
  auto n = t.dispatcher.dispatch_available(false);
  ASSERT_TRUE(n) << n.status().to_string();
  EXPECT_EQ(*n, 5u);
  EXPECT_FALSE(t.queues.find("Cut", 1));
  auto cq = t.queues.find("Replaced", 2);
  ASSERT_TRUE(cq);
  EXPECT_EQ(cq->max_offset(), 3);
  CqUnit unit;
  ASSERT_TRUE(cq->read_unit(0, &unit));
  EXPECT_EQ(unit.commit_log_offset, replaced.front().offset);
  EXPECT_EQ(unit.tag_hash, tag_hash("r"));
}

}  // namespace
}  // namespace mq::storage_mmap
