// MmapStore behaviour: put/get across segments, filtering, GetStatus, offsets by time,
// read_at, listeners, batches, refusals, SYNC_FLUSH group commit.
#include "mmap_store.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <future>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fake_host.h"
#include "mapped_file.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_batch_wait;
using testing::put_wait;
using testing::resident_pages;
using testing::small_options;
using testing::TagFilter;
using testing::TempDir;

// Passes every tag hash, then rejects by body: exercises the second filter stage.
class BodyFilter : public MessageFilter {
 public:
  bool match_tag_hash(int64_t) const override { return true; }
  bool match_message(const StoredMessage& m) const override { return m.body.find("keep") != std::string::npos; }
};

TEST(StoreTest, PutGetInOrderAcrossSegments) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  constexpr int kCount = 500;  // ~1 KiB each: spans several 64 KiB segments and CQ files
  std::vector<PutResult> puts;
  for (int i = 0; i < kCount; ++i) {
    PutResult r = put_wait(*store, make_message("OrderTopic", 1, "msg-" + std::to_string(i) + std::string(1000, 'x')));
    ASSERT_TRUE(r.status) << r.status.to_string();
    EXPECT_EQ(r.queue_offset.value(), i);
    EXPECT_EQ(r.offset_msg_id, make_offset_msg_id(HostAddress{0x7F000001, 10911}, r.commit_log_offset));
    puts.push_back(r);
  }
  EXPECT_GT(std::filesystem::file_size(dir.path() + "/commitlog/" + offset_to_file_name(0)), 0u);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/commitlog/" + offset_to_file_name(7 * 64 * 1024)));
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(store->max_offset("OrderTopic", 1).value(), kCount);
  EXPECT_EQ(store->min_offset("OrderTopic", 1).value(), 0);
  // The units reach the queue's files within consume_queue_write_out_ms (50 ms here).
  const std::string second_cq_file = dir.path() + "/consumequeue/OrderTopic/1/" + offset_to_file_name(4000);
  for (int i = 0; i < 300 && !std::filesystem::exists(second_cq_file); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(std::filesystem::exists(second_cq_file));

  int64_t next = 0;
  int seen = 0;
  while (next < kCount) {
    GetResult g = get_all(*store, "OrderTopic", 1, next, 32);
    ASSERT_EQ(g.status, GetStatus::kFound);
    ASSERT_FALSE(g.messages.empty());
    EXPECT_LE(g.messages.size(), 32u);
    for (const auto& m : g.messages) {
      EXPECT_EQ(m.queue_offset.value(), seen);
      EXPECT_EQ(m.body, "msg-" + std::to_string(seen) + std::string(1000, 'x'));
      EXPECT_EQ(m.commit_log_offset, puts[seen].commit_log_offset);
      EXPECT_EQ(m.store_host, (HostAddress{0x7F000001, 10911}));
      EXPECT_EQ(m.keys(), "key-" + std::to_string(m.body.size()));
      ++seen;
    }
    EXPECT_EQ(g.next_begin_offset.value(), seen);
    next = g.next_begin_offset.value();
  }
  EXPECT_EQ(seen, kCount);
  // max_bytes limits the batch but the first message is always returned.
  GetRequest small;
  small.topic = "OrderTopic";
  small.queue_id = 1;
  small.offset = QueueOffset(10);
  small.max_bytes = 1;
  GetResult g = store->get(small);
  ASSERT_EQ(g.status, GetStatus::kFound);
  EXPECT_EQ(g.messages.size(), 1u);
  EXPECT_EQ(g.next_begin_offset.value(), 11);
  store->stop();
}

TEST(StoreTest, TagFilteringByHashThenMessage) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 30; ++i) {
    std::string tag = i % 3 == 0 ? "TagA" : "TagB";
    ASSERT_TRUE(
        put_wait(*store, make_message("Filter", 0, (i % 2 ? "keep-" : "drop-") + std::to_string(i), tag)).status);
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  TagFilter a("TagA");
  GetResult g = get_all(*store, "Filter", 0, 0, 100, &a);
  ASSERT_EQ(g.status, GetStatus::kFound);
  ASSERT_EQ(g.messages.size(), 10u);
  for (const auto& m : g.messages) EXPECT_EQ(m.tags(), "TagA");
  EXPECT_EQ(g.next_begin_offset.value(), 30);

  // A window holding only TagB messages: NO_MATCHED_MESSAGE, and next skips the window.
  GetResult none = get_all(*store, "Filter", 0, 28, 100, &a);
  EXPECT_EQ(none.status, GetStatus::kNoMatchedMessage);
  EXPECT_TRUE(none.messages.empty());
  EXPECT_EQ(none.next_begin_offset.value(), 30);

  BodyFilter body;
  GetResult kept = get_all(*store, "Filter", 0, 0, 100, &body);
  ASSERT_EQ(kept.status, GetStatus::kFound);
  EXPECT_EQ(kept.messages.size(), 15u);
  store->stop();
}

// get_records answers the same selection as get(), as the stored records: each parses with
// the kernel's record reader into the message get() decodes, and carries its CRC.
TEST(StoreTest, GetRecordsCopiesTheRecordsGetWouldDecode) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 300; ++i) {  // ~1 KiB each: the queue spans several 64 KiB segments
    std::string tag = i % 3 == 0 ? "TagA" : "TagB";
    ASSERT_TRUE(
        put_wait(*store,
                 make_message("Rec", 1, (i % 2 ? "keep-" : "drop-") + std::to_string(i) + std::string(1000, 'r'), tag))
            .status);
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  auto same = [&](int64_t offset, int32_t max_count, int32_t max_bytes, const MessageFilter* filter) {
    GetRequest req;
    req.topic = "Rec";
    req.queue_id = 1;
    req.offset = QueueOffset(offset);
    req.max_count = max_count;
    req.max_bytes = max_bytes;
    req.filter = filter;
    GetResult g = store->get(req);
    GetRecordsResult r;
    r.records = "stale";
    ASSERT_TRUE(store->get_records(req, &r));
    EXPECT_EQ(r.get.status, g.status);
    EXPECT_EQ(r.get.next_begin_offset, g.next_begin_offset);
    EXPECT_EQ(r.get.min_offset, g.min_offset);
    EXPECT_EQ(r.get.max_offset, g.max_offset);
    EXPECT_TRUE(r.get.messages.empty());
    ASSERT_EQ(r.record_count, static_cast<int32_t>(g.messages.size()));
    std::string_view rest = r.records;
    for (const StoredMessage& m : g.messages) {
      record::RecordView v;
      ASSERT_EQ(record::parse_record(rest, &v), "");
      EXPECT_EQ(v.size, m.store_size);
      EXPECT_EQ(v.crc, m.body_crc);
      EXPECT_EQ(v.body, m.body);
      EXPECT_EQ(v.topic, m.topic);
      EXPECT_EQ(v.queue_id, m.queue_id);
      EXPECT_EQ(v.queue_offset, m.queue_offset.value());
      EXPECT_EQ(v.commit_log_offset, m.commit_log_offset.value());
      EXPECT_EQ(v.store_timestamp_ms, m.store_timestamp_ms);
      EXPECT_EQ((HostAddress{v.store_ipv4, v.store_port}), m.store_host);
      EXPECT_EQ(v.born_timestamp_ms, m.born_timestamp_ms);
      StoredMessage props;
      ASSERT_EQ(decode_encoded_properties(v.properties, &props), "");
      EXPECT_EQ(props.properties, m.properties);
      rest.remove_prefix(static_cast<size_t>(v.size));
    }
    EXPECT_TRUE(rest.empty());
    if (!g.messages.empty()) {
      EXPECT_EQ(r.end_of_last.value(), g.messages.back().commit_log_offset.value() + g.messages.back().store_size);
    }
  };
  same(0, 32, 1 << 30, nullptr);
  same(17, 250, 1 << 30, nullptr);  // across segments
  same(5, 32, 4000, nullptr);       // max_bytes: three records
  same(5, 32, 1, nullptr);          // the first record always goes
  TagFilter a("TagA");
  same(0, 40, 1 << 30, &a);  // tag hash, then the message
  BodyFilter body;
  same(0, 40, 1 << 30, &body);      // rejected by the message stage
  same(300, 32, 1 << 30, nullptr);  // OFFSET_OVERFLOW_ONE
  same(999, 32, 1 << 30, nullptr);  // OFFSET_OVERFLOW_BADLY
  GetRequest unknown;
  unknown.topic = "Nope";
  GetRecordsResult none;
  ASSERT_TRUE(store->get_records(unknown, &none));
  EXPECT_EQ(none.get.status, GetStatus::kNoMatchedLogicQueue);
  EXPECT_EQ(none.record_count, 0);
  store->stop();
}

// appendWithPwrite: records (single puts and batches, in SYNC_FLUSH) written with pwrite,
// across segment rolls and their blank markers, read back through the mapping, and found
// whole by recovery after a restart.
// appendWithPwriteMinBytes 0: every append is a pwrite; 4096: the single ~1 KiB puts go
// through the mapping and the batches with pwrite, into the same segments.
class PwriteAppendTest : public ::testing::TestWithParam<int64_t> {};
INSTANTIATE_TEST_SUITE_P(MinBytes, PwriteAppendTest, ::testing::Values(int64_t{0}, int64_t{4096}));

TEST_P(PwriteAppendTest, AppendsAreReadBackAndRecovered) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.append_with_pwrite = true;
  o.append_with_pwrite_min_bytes = GetParam();
  o.flush_disk_type = FlushDiskType::kSync;
  std::vector<std::string> bodies;
  {
    auto store = make_store(o);
    ASSERT_TRUE(store->start());
    for (int i = 0; i < 120; ++i) {  // ~1 KiB each: several 64 KiB segments
      bodies.push_back("single-" + std::to_string(i) + std::string(1000, static_cast<char>('a' + i % 26)));
      ASSERT_TRUE(put_wait(*store, make_message("Pw", 0, bodies.back())).status);
    }
    for (int b = 0; b < 6; ++b) {  // batches of 40: most cross a segment end
      std::vector<StoredMessage> batch;
      for (int i = 0; i < 40; ++i) {
        bodies.push_back("batch-" + std::to_string(b) + "-" + std::to_string(i) + std::string(900, 'z'));
        batch.push_back(make_message("Pw", 0, bodies.back()));
      }
      for (const PutResult& r : put_batch_wait(*store, std::move(batch))) ASSERT_TRUE(r.status) << r.status.to_string();
    }
    ASSERT_TRUE(store->wait_dispatched(5s));
    GetResult g = get_all(*store, "Pw", 0, 0, static_cast<int32_t>(bodies.size()));
    ASSERT_EQ(g.messages.size(), bodies.size());
    for (size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(g.messages[i].body, bodies[i]) << i;
    store->stop();
  }
  std::filesystem::remove(dir.path() + "/checkpoint");  // recover by scanning every record
  std::filesystem::remove_all(dir.path() + "/consumequeue");
  auto again = make_store(o);
  ASSERT_TRUE(again->start());
  ASSERT_TRUE(again->wait_dispatched(5s));
  GetResult g = get_all(*again, "Pw", 0, 0, static_cast<int32_t>(bodies.size()));
  ASSERT_EQ(g.messages.size(), bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(g.messages[i].body, bodies[i]) << i;
  again->stop();
}

TEST(StoreTest, GetStatusCases) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  GetResult unknown = get_all(*store, "Nope", 0, 5);
  EXPECT_EQ(unknown.status, GetStatus::kNoMatchedLogicQueue);
  EXPECT_EQ(unknown.next_begin_offset.value(), 0);
  EXPECT_EQ(store->max_offset("Nope", 0).value(), 0);

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(put_wait(*store, make_message("S", 2, "m" + std::to_string(i))).status);
  ASSERT_TRUE(store->wait_dispatched(5s));
  GetResult one = get_all(*store, "S", 2, 5);
  EXPECT_EQ(one.status, GetStatus::kOffsetOverflowOne);
  EXPECT_EQ(one.next_begin_offset.value(), 5);
  EXPECT_EQ(one.max_offset.value(), 5);
  GetResult badly = get_all(*store, "S", 2, 9);
  EXPECT_EQ(badly.status, GetStatus::kOffsetOverflowBadly);
  EXPECT_EQ(badly.next_begin_offset.value(), 0);  // min is 0: RocketMQ resets to min
  GetResult found = get_all(*store, "S", 2, 3);
  EXPECT_EQ(found.status, GetStatus::kFound);
  EXPECT_EQ(found.messages.size(), 2u);
  EXPECT_EQ(found.min_offset.value(), 0);
  EXPECT_EQ(found.max_offset.value(), 5);
  store->stop();
}

TEST(StoreTest, MinMaxOffsetByTimeAndReadAt) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 6; ++i) {
    puts.push_back(put_wait(*store, make_message("Time", 0, "t" + std::to_string(i))));
    ASSERT_TRUE(puts.back().status);
    std::this_thread::sleep_for(5ms);  // distinct store timestamps
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(store->min_offset("Time", 0).value(), 0);
  EXPECT_EQ(store->max_offset("Time", 0).value(), 6);
  EXPECT_EQ(store->offset_by_time("Time", 0, 0).value(), 0);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(store->offset_by_time("Time", 0, puts[i].store_timestamp_ms).value(), i);
    EXPECT_EQ(store->offset_by_time("Time", 0, puts[i].store_timestamp_ms + 1).value(), i + 1);
  }
  EXPECT_EQ(store->offset_by_time("Time", 0, puts.back().store_timestamp_ms + 100000).value(), 6);

  auto m = store->read_at(puts[3].commit_log_offset);
  ASSERT_TRUE(m) << m.status().to_string();
  EXPECT_EQ(m->body, "t3");
  EXPECT_EQ(m->store_timestamp_ms, puts[3].store_timestamp_ms);
  EXPECT_EQ(m->store_size, puts[3].wrote_bytes);
  HostAddress host;
  CommitLogOffset off;
  ASSERT_TRUE(decode_offset_msg_id(puts[3].offset_msg_id, &host, &off));
  EXPECT_EQ(off, puts[3].commit_log_offset);
  EXPECT_FALSE(store->read_at(CommitLogOffset(puts[3].commit_log_offset.value() + 1)));
  EXPECT_FALSE(store->read_at(CommitLogOffset(1 << 30)));

  StoreStats s = store->stats();
  EXPECT_EQ(s.put_count, 6u);
  EXPECT_EQ(s.max_commit_log_offset.value(), puts.back().commit_log_offset.value() + puts.back().wrote_bytes);
  EXPECT_EQ(s.dispatched_commit_log_offset, s.max_commit_log_offset);
  EXPECT_FALSE(s.read_only);
  store->stop();
}

TEST(StoreTest, ArrivalListenerCalledAfterUnitWritten) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::mutex mu;
  std::vector<std::tuple<std::string, QueueId, int64_t, int64_t, int64_t>> calls;  // + max seen inside
  MmapStore* raw = store.get();
  store->add_arrival_listener([&](const std::string& topic, QueueId q, QueueOffset next, int64_t hash) {
    int64_t max = raw->max_offset(topic, q).value();
    std::lock_guard lock(mu);
    calls.emplace_back(topic, q, next.value(), hash, max);
  });
  ASSERT_TRUE(put_wait(*store, make_message("Arrive", 4, "a", "TagX")).status);
  ASSERT_TRUE(put_wait(*store, make_message("Arrive", 4, "b", "TagX")).status);
  ASSERT_TRUE(store->wait_dispatched(5s));
  // dispatched() passes a record only after its listeners were told: no waiting here. Two
  // puts dispatched in one pass are one run of (queue, tag), told once.
  std::lock_guard lock(mu);
  ASSERT_GE(calls.size(), 1u);
  ASSERT_LE(calls.size(), 2u);
  for (const auto& [topic, queue, next, hash, max_seen] : calls) {
    EXPECT_EQ(topic, "Arrive");
    EXPECT_EQ(queue, 4);
    EXPECT_EQ(hash, tag_hash("TagX"));
    EXPECT_GE(max_seen, next);  // the units were visible when the listener ran
  }
  EXPECT_EQ(std::get<2>(calls.front()), calls.size() == 1 ? 2 : 1);
  EXPECT_EQ(std::get<2>(calls.back()), 2);
}

TEST(StoreTest, ArrivalListenerToldOncePerRunOfOneQueueAndTag) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.commit_log_segment_size = 4 << 20;  // the long run's batch in one segment
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  using Call = std::tuple<std::string, QueueId, int64_t, int64_t>;
  std::mutex mu;
  std::vector<Call> calls;
  store->add_arrival_listener([&](const std::string& topic, QueueId q, QueueOffset next, int64_t hash) {
    std::lock_guard lock(mu);
    calls.emplace_back(topic, q, next.value(), hash);
  });
  auto take_calls = [&] {
    std::lock_guard lock(mu);
    return std::exchange(calls, {});
  };
  // One batch is published at once, so one pass dispatches all of it.
  std::vector<StoredMessage> batch;
  for (const char* tag : {"A", "A", "A", "B", "A"}) batch.push_back(make_message("Runs", 2, "m", tag));
  for (const PutResult& r : put_batch_wait(*store, std::move(batch))) ASSERT_TRUE(r.status) << r.status.to_string();
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(
      take_calls(),
      (std::vector<Call>{{"Runs", 2, 3, tag_hash("A")}, {"Runs", 2, 4, tag_hash("B")}, {"Runs", 2, 5, tag_hash("A")}}));

  // A long run is told every Dispatcher::kPublishEvery records, so held pulls do not wait
  // for all of it.
  constexpr int kEvery = Dispatcher::kPublishEvery;
  batch.clear();
  for (int i = 0; i < kEvery + 44; ++i) batch.push_back(make_message("Runs", 2, "m", "A"));
  for (const PutResult& r : put_batch_wait(*store, std::move(batch))) ASSERT_TRUE(r.status) << r.status.to_string();
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(take_calls(),
            (std::vector<Call>{{"Runs", 2, 5 + kEvery, tag_hash("A")}, {"Runs", 2, 5 + kEvery + 44, tag_hash("A")}}));

  // Another topic with the same queue id is another run.
  ASSERT_TRUE(put_wait(*store, make_message("Other", 2, "m", "A")).status);
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(take_calls(), (std::vector<Call>{{"Other", 2, 1, tag_hash("A")}}));
}

TEST(StoreTest, PutBatchIsConsecutive) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  ASSERT_TRUE(put_wait(*store, make_message("Batch", 0, "first")).status);
  std::vector<StoredMessage> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(make_message("Batch", 0, "b" + std::to_string(i)));
  auto rs = put_batch_wait(*store, batch);
  ASSERT_EQ(rs.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(rs[i].status) << rs[i].status.to_string();
    EXPECT_EQ(rs[i].queue_offset.value(), i + 1);
    if (i > 0) {
      EXPECT_EQ(rs[i].commit_log_offset.value(), rs[i - 1].commit_log_offset.value() + rs[i - 1].wrote_bytes);
    }
  }
  std::vector<StoredMessage> mixed = {make_message("Batch", 0, "x"), make_message("Other", 0, "y")};
  auto bad = put_batch_wait(*store, mixed);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].status.code(), Code::kMessageIllegal);
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(store->max_offset("Batch", 0).value(), 11);
  EXPECT_EQ(store->max_offset("Other", 0).value(), 0);
}

namespace {
PutViewsResult put_views_wait(MmapStore& store, std::span<const MessageView> views) {
  std::promise<PutViewsResult> p;
  auto f = p.get_future();
  store.put_views(views, [&p](PutViewsResult r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

TEST(StoreTest, PutViewsStoresTheSameRecordsAsPutBatch) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  std::vector<StoredMessage> msgs;
  std::vector<std::string> props;
  for (int i = 0; i < 40; ++i) {  // ~2 KiB each: the batch rolls over 64 KiB segments
    std::string key = "k";        // (built by appends: GCC 12 warns falsely on "literal" + std::string here)
    key += std::to_string(i);
    msgs.push_back(make_message("Views", 2, key + std::string(2000, 'v'), "TagV"));
    msgs.back().set_property(prop::kKeys, key);
    msgs.back().flag = i;
    std::string encoded;
    append_encoded_properties(msgs.back(), &encoded);
    props.push_back(std::move(encoded));
  }
  std::vector<MessageView> views;
  for (size_t i = 0; i < msgs.size(); ++i) views.push_back(view_of(msgs[i], props[i]));
  PutViewsResult r = put_views_wait(*store, views);
  ASSERT_TRUE(r.status) << r.status.to_string();
  ASSERT_EQ(r.positions.size(), msgs.size());
  EXPECT_GT(r.store_timestamp_ms, 0);
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(r.positions[i].queue_offset.value(), static_cast<int64_t>(i));
    auto back = store->read_at(r.positions[i].commit_log_offset);  // CRC-checked
    ASSERT_TRUE(back) << back.status().to_string();
    EXPECT_EQ(back->body, msgs[i].body);
    EXPECT_EQ(back->flag, static_cast<int32_t>(i));
    EXPECT_EQ(back->properties, msgs[i].properties);
    EXPECT_EQ(back->store_size, r.positions[i].wrote_bytes);
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(store->max_offset("Views", 2).value(), 40);
  EXPECT_EQ(store->query_by_key("Views", "k7", 10, 0, -1).size(), 1u);
}

TEST(StoreTest, PutViewsRefusesMalformedPropertiesAndMixedQueuesStoringNothing) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  StoredMessage m = make_message("ViewsBad", 0, "body");
  const int64_t end_before = store->stats().max_commit_log_offset.value();
  for (const std::string& bad : {std::string("A\x01") /* no \x02 */, std::string("\x01v\x02") /* empty name */,
                                 std::string("Av\x02") /* no \x01 */, std::string("A\x01x\x01y\x02")}) {
    std::string good;
    append_encoded_properties(m, &good);
    std::vector<MessageView> views = {view_of(m, good), view_of(m, bad)};
    PutViewsResult r = put_views_wait(*store, views);
    EXPECT_EQ(r.status.code(), Code::kMessageIllegal) << r.status.to_string();
    EXPECT_NE(r.status.message().find("message 1 of the batch"), std::string::npos) << r.status.message();
    EXPECT_TRUE(r.positions.empty());
  }
  StoredMessage other = make_message("ViewsBad", 1, "body");
  std::vector<MessageView> mixed = {view_of(m, ""), view_of(other, "")};
  EXPECT_EQ(put_views_wait(*store, mixed).status.code(), Code::kMessageIllegal);
  EXPECT_EQ(store->stats().max_commit_log_offset.value(), end_before);
  store->stop();
  std::vector<MessageView> one = {view_of(m, "")};
  EXPECT_EQ(put_views_wait(*store, one).status.code(), Code::kServiceNotAvailable);
}

TEST(StoreTest, PutViewsInSyncFlushCompletesAfterMsyncUnlessWaitIsFalse) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  StoredMessage m = make_message("ViewsSync", 0, "durable");
  std::string props;
  append_encoded_properties(m, &props);
  std::vector<MessageView> views = {view_of(m, props)};
  PutViewsResult r = put_views_wait(*store, views);
  ASSERT_TRUE(r.status) << r.status.to_string();
  ASSERT_EQ(r.positions.size(), 1u);
  EXPECT_GE(store->stats().flushed_commit_log_offset.value(),
            r.positions[0].commit_log_offset.value() + r.positions[0].wrote_bytes);
  m.set_property(prop::kWaitStoreMsgOk, "false");
  std::string nowait;
  append_encoded_properties(m, &nowait);
  std::vector<MessageView> views2 = {view_of(m, nowait)};
  EXPECT_TRUE(put_views_wait(*store, views2).status);
}

TEST(StoreTest, WarmPagesAheadOfTheWriterLeaveEveryRecordIntact) {
  // warmMapedFileEnable: the allocator pre-faults a window ahead of the write position while
  // puts write into it; every record must read back exactly, across many segment rolls.
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.warm_maped_file_enable = true;
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 400; ++i) {
    std::string body = std::to_string(i);
    body.append(static_cast<size_t>(700 + i % 300), static_cast<char>('a' + i % 26));
    PutResult r = put_wait(*store, make_message("Warm", i % 3, body));
    ASSERT_TRUE(r.status) << r.status.to_string();
    puts.push_back(r);
  }
  for (int i = 0; i < 400; i += 7) {
    auto back = store->read_at(puts[static_cast<size_t>(i)].commit_log_offset);
    ASSERT_TRUE(back) << back.status().to_string();
    EXPECT_EQ(back->body.substr(0, std::to_string(i).size()), std::to_string(i));
  }
  store->stop();
  auto again = make_store(o);  // a clean restart finds the same log end
  ASSERT_TRUE(again->start());
  EXPECT_EQ(again->stats().max_commit_log_offset.value(),
            puts.back().commit_log_offset.value() + puts.back().wrote_bytes);
}

TEST(StoreTest, PageCacheFarBehindTheFlushedPositionIsDroppedAndReadsBackFromDisk) {
  // commitLogPageCacheMiB=1: once flushed, what lies more than 1 MiB behind leaves the page
  // cache (in steps of 256 KiB); those records still read back exactly, from the disk.
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.commit_log_segment_size = 1 << 20;
  o.commit_log_cache_mib = 1;
  o.flush_least_pages = 0;  // every flush interval flushes up to the end
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 4000; ++i) {  // ~4.4 MiB
    std::string body = std::to_string(i);
    body.append(static_cast<size_t>(900 + i % 200), static_cast<char>('a' + i % 26));
    PutResult r = put_wait(*store, make_message("Behind", i % 4, body));
    ASSERT_TRUE(r.status) << r.status.to_string();
    puts.push_back(r);
  }
  const int64_t end = puts.back().commit_log_offset.value() + puts.back().wrote_bytes;
  const int64_t expect_below = (end - (int64_t{1} << 20)) / (256 << 10) * (256 << 10);
  for (int i = 0; i < 500 && store->cache_dropped_to() < expect_below; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(store->cache_dropped_to(), expect_below);
  // The first two segments lie wholly below it: none of their pages is cached.
  ASSERT_GE(expect_below, int64_t{2} << 20);
  for (const char* seg : {"00000000000000000000", "00000000000001048576"}) {
    const std::string path = dir.path() + "/commitlog/" + seg;
    EXPECT_EQ(resident_pages(path, 0, 1 << 20), 0u) << path;
  }
  // The newest MiB stays cached.
  const std::string last = dir.path() + "/commitlog/" + offset_to_file_name(end / (1 << 20) * (1 << 20));
  EXPECT_GT(resident_pages(last, 0, static_cast<size_t>(end % (1 << 20))), 0u) << last;
  for (int i = 0; i < 4000; i += 13) {
    auto back = store->read_at(puts[static_cast<size_t>(i)].commit_log_offset);
    ASSERT_TRUE(back) << back.status().to_string();
    std::string body = std::to_string(i);
    body.append(static_cast<size_t>(900 + i % 200), static_cast<char>('a' + i % 26));
    EXPECT_EQ(back->body, body);
  }
  store->stop();
}

TEST(StoreTest, RefusesIllegalMessagesAndPutsWhenStopped) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  PutResult before = put_wait(*store, make_message("T", 0, "x"));
  EXPECT_EQ(before.status.code(), Code::kServiceNotAvailable);
  ASSERT_TRUE(store->start());
  EXPECT_EQ(put_wait(*store, make_message("", 0, "x")).status.code(), Code::kMessageIllegal);
  EXPECT_EQ(put_wait(*store, make_message("T", -1, "x")).status.code(), Code::kMessageIllegal);
  PutResult huge = put_wait(*store, make_message("T", 0, std::string(70 * 1024, 'h')));
  EXPECT_EQ(huge.status.code(), Code::kMessageIllegal);
  EXPECT_NE(huge.status.message().find("65528"), std::string::npos) << huge.status.message();
  store->stop();
  EXPECT_EQ(put_wait(*store, make_message("T", 0, "x")).status.code(), Code::kServiceNotAvailable);
}

TEST(StoreTest, SyncFlushCompletesAfterMsync) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        PutResult r = put_wait(*store, make_message("Sync", t, std::string("s") + std::to_string(i)));
        EXPECT_TRUE(r.status) << r.status.to_string();
        EXPECT_GE(store->stats().flushed_commit_log_offset.value(), r.commit_log_offset.value() + r.wrote_bytes);
        done.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(done.load(), 100);
  // WAIT=false: completes at once, without waiting for the flush.
  StoredMessage nowait = make_message("Sync", 0, "nowait");
  nowait.set_property(prop::kWaitStoreMsgOk, "false");
  EXPECT_TRUE(put_wait(*store, nowait).status);
  store->stop();
}

}  // namespace
}  // namespace mq::storage_mmap
