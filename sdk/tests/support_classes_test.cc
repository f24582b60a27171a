// Tag expressions, message ids, name server lists, the thread pool and the scheduler.
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "message_id.h"
#include "name_server_list.h"
#include "scheduler.h"
#include "tag_filter.h"
#include "thread_pool.h"
// The shared tag-expression table lives with the broker tests (the broker's rules win).
#include "../../kernel/tests/support/tag_expression_cases.h"

namespace mq::client {
namespace {

TEST(TagFilter, ParsesStarAndTagLists) {
  TagFilter all;
  ASSERT_TRUE(TagFilter::parse("*", &all));
  EXPECT_TRUE(all.matches_all());
  EXPECT_TRUE(all.matches(""));
  EXPECT_EQ(all.expression(), "*");
  TagFilter empty;
  ASSERT_TRUE(TagFilter::parse("  ", &empty));
  EXPECT_TRUE(empty.matches_all());

  TagFilter two;
  ASSERT_TRUE(TagFilter::parse(" TagB||TagA ", &two));
  EXPECT_FALSE(two.matches_all());
  EXPECT_TRUE(two.matches("TagA"));
  EXPECT_TRUE(two.matches("TagB"));
  EXPECT_FALSE(two.matches("TagC"));
  EXPECT_FALSE(two.matches(""));
  EXPECT_EQ(two.expression(), "TagA || TagB");
}

TEST(TagFilter, RejectsExpressionsWithoutTags) {
  TagFilter f;
  Status s = TagFilter::parse("||", &f);
  EXPECT_EQ(s.code(), code::kIllegalArgument);
  EXPECT_NE(s.remark().find("||"), std::string::npos);
}

// Same table as the broker's TagFilter test: both sides accept and reject the same inputs.
TEST(TagFilter, SharedExpressionTableMatchesTheBroker) {
  for (const auto& c : tag_cases::kTagExpressionCases) {
    TagFilter f;
    Status st = TagFilter::parse(c.expression, &f);
    ASSERT_EQ(static_cast<bool>(st), c.valid) << "'" << c.expression << "': " << st.remark();
    if (!c.valid) {
      EXPECT_EQ(st.code(), code::kIllegalArgument);
      EXPECT_NE(st.remark().find(c.expression), std::string::npos) << st.remark();
      continue;
    }
    std::string tags;
    if (f.matches_all()) {
      tags = "*";
    } else {
      for (const auto& t : f.tags()) tags += (tags.empty() ? "" : ",") + t;
    }
    EXPECT_EQ(tags, c.tags) << "'" << c.expression << "'";
  }
}

TEST(MessageId, UniqueAcrossThreadsAndWellFormed) {
  MessageIdGenerator gen(0x0A000001, 4242, 0xDEADBEEF);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(gen.next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  const std::string& one = *all.begin();
  ASSERT_EQ(one.size(), 32u);
  EXPECT_EQ(one.substr(0, 20), "0A0000011092DEADBEEF");  // ip, pid 4242 = 0x1092, hash
  EXPECT_EQ(one.find_first_not_of("0123456789ABCDEF"), std::string::npos);
}

TEST(MessageId, LayoutOfTimeAndCounter) {
  MessageIdGenerator gen(0x7F000001, 1, 2);
  EXPECT_EQ(gen.make(0x01020304, 0x0506), "7F000001000100000002010203040506");
  EXPECT_NE(gen.make(1, 0), gen.make(1, 1));
  EXPECT_NE(MessageIdGenerator::instance().next(), MessageIdGenerator::instance().next());
}

// Ids never repeat, however coarse the clock: a clock stuck on one millisecond, or stepping
// back, still gives strictly increasing (time, counter) pairs; past 65,536 ids within a
// millisecond the time field moves on.
TEST(MessageId, TimeAndCounterNeverRepeatWhateverTheClockDoes) {
  MessageIdGenerator gen(0x7F000001, 1, 2);
  std::pair<int64_t, uint16_t> last = gen.take(1000);
  EXPECT_EQ(last, (std::pair<int64_t, uint16_t>{1000, 0}));
  for (int i = 1; i < 70000; ++i) {
    const auto next = gen.take(1000);  // the same clock reading every time
    ASSERT_LT(last, next) << i;
    last = next;
  }
  EXPECT_EQ(last, (std::pair<int64_t, uint16_t>{1001, 70000 - 65536 - 1}));
  EXPECT_LT(last, gen.take(900));                                      // the clock stepped back
  EXPECT_EQ(gen.take(5000), (std::pair<int64_t, uint16_t>{5000, 0}));  // it moved on: counter from 0
  char id[MessageIdGenerator::kIdLength];
  gen.next_into(id);
  const std::string s(id, sizeof id);
  EXPECT_EQ(s.substr(0, 20), "7F000001000100000002");
  EXPECT_EQ(s.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_NE(s, gen.next());
}

// A batch's ids are taken with one update: consecutive (time, counter) pairs, the counter
// carrying into the time, never the ids of another batch or single id.
TEST(MessageId, BatchesTakeConsecutiveIds) {
  MessageIdGenerator gen(0x7F000001, 1, 2);
  EXPECT_EQ(gen.take(2000, 65535), (std::pair<int64_t, uint16_t>{2000, 0}));
  EXPECT_EQ(gen.take(2000), (std::pair<int64_t, uint16_t>{2000, 65535}));
  EXPECT_EQ(gen.take(2000, 3), (std::pair<int64_t, uint16_t>{2001, 0}));  // carried into the time
  EXPECT_EQ(gen.take(2000), (std::pair<int64_t, uint16_t>{2001, 3}));

  constexpr size_t kLen = MessageIdGenerator::kIdLength;
  constexpr int kThreads = 4;
  constexpr int kBatches = 2000;
  constexpr size_t kBatch = 64;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string block(kBatch * kLen, ' ');
      for (int b = 0; b < kBatches; ++b) {
        gen.next_into(block.data(), kBatch);
        for (size_t i = 0; i < kBatch; ++i) ids[t].push_back(block.substr(i * kLen, kLen));
        ids[t].push_back(gen.next());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : ids) {
    for (const std::string& id : v) {
      ASSERT_EQ(id.substr(0, 20), "7F000001000100000002");
      ASSERT_EQ(id.find_first_not_of("0123456789ABCDEF"), std::string::npos) << id;
    }
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kBatches * (kBatch + 1)));
  // Within a batch the ids follow each other: (time, counter) as one number, one apart.
  std::string block(2 * kLen, ' ');
  gen.next_into(block.data(), 2);
  const uint64_t a = std::stoull(block.substr(20, 12), nullptr, 16);
  const uint64_t b = std::stoull(block.substr(kLen + 20, 12), nullptr, 16);
  EXPECT_EQ(b, a + 1) << block;
}

TEST(NameServerList, ParsesSeparatorsAndFallsBackToEnvironment) {
  std::vector<std::string> out;
  ASSERT_TRUE(resolve_name_servers("a:9876;b:9877, c:1", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"a:9876", "b:9877", "c:1"}));
  EXPECT_EQ(resolve_name_servers("a:9876;b", &out).code(), code::kIllegalArgument);
  ::setenv("NAMESRV_ADDR", "env:9876", 1);
  ASSERT_TRUE(resolve_name_servers("", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"env:9876"}));
  ::unsetenv("NAMESRV_ADDR");
  EXPECT_EQ(resolve_name_servers("", &out).code(), code::kNoNameServer);
}

TEST(ThreadPool, BoundedQueueRefusesWhenFullAndDrainsOnShutdown) {
  ThreadPool pool("test", 1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::promise<void> started;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_submit([&] {
    started.set_value();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    ++ran;
  }));
  started.get_future().wait();  // the worker is busy; the queue is empty
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));  // capacity 2 reached
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(pool.try_submit([] {}));
}

TEST(Scheduler, RunsDelayedTasksInDueOrderAndRepeats) {
  Scheduler s("test");
  std::mutex mu;
  std::vector<int> order;
  auto record = [&](int v) {
    std::lock_guard lock(mu);
    order.push_back(v);
  };
  std::promise<void> last;
  // Queued before the thread starts, so only the due times decide the order.
  s.schedule(80, [&] {
    record(3);
    last.set_value();
  });
  s.schedule(40, [&] { record(2); });
  s.schedule(0, [&] { record(1); });
  std::promise<void> repeated;
  std::atomic<int> repeats{0};
  s.schedule_every(0, 1, [&] {
    if (++repeats == 3) repeated.set_value();
  });
  s.start();
  last.get_future().wait();
  repeated.get_future().wait();
  s.stop();
  s.schedule(0, [&] { record(4); });  // ignored after stop
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace mq::client
