// The schedule plugin driven through FakeKernel + FakeMessageStore: hook registration,
// delay-level delivery (order, timing, persistence, restart, failed puts), timers (restart,
// far future, cancel), send-back to %RETRY% / %DLQ%, and clock jumps.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <boost/program_options.hpp>

#include "message_rewrite.h"
#include "mq/schedule_service.h"
#include "mq/testkit/fake_host.h"
#include "mq/testkit/fake_message_store.h"
#include "mq/testkit/forwarding_message_store.h"
#include "mq/transaction_service.h"
#include "schedule_plugin.h"
#include "timer_files.h"

namespace mq::schedule {
namespace {

using namespace std::chrono_literals;
namespace po = boost::program_options;

int64_t real_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// prefix + i, built without operator+(const char*, std::string&&) (GCC 12 -Wrestrict false positive).
std::string numbered(const char* prefix, int i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One broker's worth of fakes plus a schedule plugin; restart() builds a new plugin object
// (and a new fake kernel) on the same store and directory.
class ScheduleFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mqsched-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = std::make_shared<testkit::FakeMessageStore>();
  }
  void TearDown() override {
    if (plugin_) plugin_->stop();
    plugin_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(std::vector<std::string> args, int64_t broker_id = 0) {
    args_ = std::move(args);
    kernel_ = std::make_unique<testkit::FakeKernel>();
    kernel_->host.mutable_identity().store_root = dir_;
    kernel_->host.mutable_identity().broker_id = broker_id;
    std::shared_ptr<MessageStore> provided = provided_ ? provided_ : std::shared_ptr<MessageStore>(store_);
    ASSERT_TRUE(kernel_->registry.provide<MessageStore>(provided, "fake").is_ok());
    po::options_description desc;
    declare_schedule_options(desc);
    std::vector<const char*> argv{"x"};
    for (const auto& a : args_) argv.push_back(a.c_str());
    po::variables_map vm;
    po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), desc), vm);
    po::notify(vm);
    plugin_ = std::make_unique<SchedulePlugin>([this] { return real_now() + skew_.load(); });
    ASSERT_TRUE(plugin_->configure(vm).is_ok());
    ASSERT_TRUE(plugin_->init(kernel_->registry, kernel_->host).is_ok());
    ASSERT_TRUE(plugin_->start().is_ok());
  }
  void restart() {
    plugin_->stop();
    plugin_.reset();
    start(args_);
  }
  ScheduleService& service() { return *kernel_->registry.find<ScheduleService>(); }

  // Sends through the pipeline (the plugin's hook) into the store, like the kernel.
  Status send(const std::string& topic, QueueId q, const std::string& body,
              std::map<std::string, std::string> props = {}) {
    StoredMessage m;
    m.topic = topic;
    m.queue_id = q;
    m.body = body;
    m.set_property(prop::kUniqKey, "ID-" + body);
    for (auto& [k, v] : props) m.set_property(k, v);
    if (Status st = kernel_->pipeline->run_before_store(m); !st) return st;
    std::promise<Status> done;
    store_->put(std::move(m), [&done](PutResult r) { done.set_value(r.status); });
    return done.get_future().get();
  }
  std::vector<StoredMessage> got(const std::string& topic, QueueId q = 0) { return store_->messages(topic, q); }
  Status call_cancel(const std::string& topic, const std::string& id) {
    std::promise<Status> p;
    service().cancel(topic, id, [&p](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
  }
  Status call_send_back(ConsumerSendBack req) {
    std::promise<Status> p;
    service().send_back(std::move(req), [&p](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
  }

  std::string dir_;
  std::shared_ptr<testkit::FakeMessageStore> store_;
  std::shared_ptr<MessageStore> provided_;  // the plugin's store when set (a wrapper of store_)
  std::unique_ptr<testkit::FakeKernel> kernel_;
  std::unique_ptr<SchedulePlugin> plugin_;
  std::vector<std::string> args_;
  std::atomic<int64_t> skew_{0};
};

TEST_F(ScheduleFixture, InitProvidesServiceAndHook) {
  start({});
  EXPECT_NE(kernel_->registry.find<ScheduleService>(), nullptr);
  EXPECT_EQ(kernel_->pipeline->before_count(), 1u);
  StoredMessage m;
  m.topic = "T";
  m.set_property(prop::kDelayLevel, "30");
  ASSERT_TRUE(kernel_->pipeline->run_before_store(m).is_ok());
  EXPECT_EQ(m.topic, kScheduleTopic);
  EXPECT_EQ(m.queue_id, 17);  // clamped to the 18 default levels
}

TEST_F(ScheduleFixture, LevelsDeliverInOrderNotBeforeTheirDelay) {
  start({"--schedule.messageDelayLevel=100ms 300ms"});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(send("T", 1, "a" + std::to_string(i), {{"DELAY", "1"}}).is_ok());
    ASSERT_TRUE(send("T", 2, "b" + std::to_string(i), {{"DELAY", "2"}, {"TAGS", "X"}}).is_ok());
  }
  ASSERT_TRUE(wait_until([&] { return got("T", 1).size() == 5 && got("T", 2).size() == 5; }));
  auto scheduled = [&](int level) { return got(std::string(kScheduleTopic), level - 1); };
  for (int level : {1, 2}) {
    auto in = scheduled(level);
    auto out = got("T", level);
    ASSERT_EQ(in.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(out[i].body, in[i].body) << "queue order is kept";
      EXPECT_GE(out[i].store_timestamp_ms, in[i].store_timestamp_ms + (level == 1 ? 100 : 300)) << "never early";
      EXPECT_LT(out[i].store_timestamp_ms, in[i].store_timestamp_ms + 2000) << "delivered on time";
      EXPECT_EQ(out[i].property(prop::kUniqKey), "ID-" + out[i].body);
      EXPECT_TRUE(out[i].property(prop::kRealTopic).empty());
      EXPECT_TRUE(out[i].property(prop::kDelayLevel).empty());
    }
  }
  EXPECT_EQ(got("T", 2)[0].property(prop::kTags), "X");
}

TEST_F(ScheduleFixture, LargeBodiesAreReadAheadInBoundedWindowsAndAllDelivered) {
  start({"--schedule.messageDelayLevel=50ms"});
  const std::string big(1 << 20, 'x');  // 12 MiB in all: more than one level window (4 MiB)
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(send("Big", 0, std::to_string(i) + big.substr(0, big.size() - 2), {{"DELAY", "1"}}).is_ok());
  }
  ASSERT_TRUE(wait_until([&] { return got("Big").size() == 12; }));
  auto out = got("Big");
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(out[static_cast<size_t>(i)].body.substr(0, std::to_string(i).size()), std::to_string(i));
}

TEST_F(ScheduleFixture, OffsetsPersistAndRestartDeliversOnlyTheRest) {
  start({"--schedule.messageDelayLevel=50ms", "--schedule.flushDelayOffsetInterval=50"});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send("T", 0, "m" + std::to_string(i), {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 3; }));
  plugin_->stop();
  EXPECT_NE(read_file(dir_ + "/config/delayOffset.json").find("{\"offsetTable\":{\"1\":3}}"), std::string::npos)
      << read_file(dir_ + "/config/delayOffset.json");
  // Two more arrive while the plugin is down (the hook is stateless: rewrite directly).
  for (int i = 3; i < 5; ++i) ASSERT_TRUE(send("T", 0, "m" + std::to_string(i), {{"DELAY", "1"}}).is_ok());
  restart();
  ASSERT_TRUE(wait_until([&] { return got("T").size() >= 5; }));
  std::this_thread::sleep_for(200ms);  // a re-delivery would show up by now
  auto out = got("T");
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[static_cast<size_t>(i)].body, "m" + std::to_string(i));
}

TEST_F(ScheduleFixture, FailedPutsAreRetriedNothingSkipped) {
  start({"--schedule.messageDelayLevel=300ms"});
  // Three scheduled messages are stored, then every put fails (disk full) for a while.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send("T", 0, "f" + std::to_string(i), {{"DELAY", "1"}}).is_ok());
  store_->fail_puts_with(Status(Code::kServiceNotAvailable, "disk full (test)"));
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().put_failures >= 2; }));
  EXPECT_TRUE(got("T").empty());
  store_->fail_puts_with(Status::ok());
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 3; }));
  std::this_thread::sleep_for(200ms);
  auto out = got("T");
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out[static_cast<size_t>(i)].body, "f" + std::to_string(i));
}

TEST_F(ScheduleFixture, TimersDeliverOnTimeNeverEarly) {
  start({});
  const int64_t sent = real_now();
  ASSERT_TRUE(send("T", 0, "rel", {{"TIMER_DELAY_MS", "300"}}).is_ok());
  ASSERT_TRUE(send("T", 0, "abs", {{"TIMER_DELIVER_MS", std::to_string(sent + 600)}}).is_ok());
  ASSERT_TRUE(send("T", 0, "sec", {{"TIMER_DELAY_SEC", "1"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 3; }, 5s));
  auto out = got("T");
  std::map<std::string, int64_t> at;
  for (const auto& m : out) at[m.body] = m.store_timestamp_ms;
  EXPECT_GE(at["rel"], sent + 300);
  EXPECT_GE(at["abs"], sent + 600);
  EXPECT_GE(at["sec"], sent + 1000);
  for (const auto& [body, t] : at) EXPECT_LT(t, sent + 1000 + 1000) << body;
  for (const auto& m : out) {
    EXPECT_TRUE(m.property(kTimerOutMs).empty());
    EXPECT_TRUE(m.property(prop::kTimerDelayMs).empty());
    EXPECT_EQ(m.property(prop::kUniqKey), "ID-" + m.body);
  }
  Status far = send("T", 0, "far", {{"TIMER_DELAY_SEC", std::to_string(4 * 24 * 3600)}});
  EXPECT_EQ(far.code(), Code::kMessageIllegal);
}

TEST_F(ScheduleFixture, TimersSurviveRestartExactlyOnce) {
  start({"--schedule.flushDelayOffsetInterval=50"});
  ASSERT_TRUE(send("T", 0, "early", {{"TIMER_DELAY_MS", "100"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 1; }));
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(send("T", 0, "late" + std::to_string(i), {{"TIMER_DELAY_MS", "1200"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timers_indexed == 21; }));
  restart();
  ASSERT_TRUE(wait_until([&] { return got("T").size() >= 21; }, 5s));
  std::this_thread::sleep_for(300ms);
  auto out = got("T");
  EXPECT_EQ(out.size(), 21u);
  std::set<std::string> bodies;
  for (const auto& m : out) bodies.insert(m.body);
  EXPECT_EQ(bodies.size(), 21u);
}

TEST_F(ScheduleFixture, FarTimersStayOnDiskAndAForwardClockJumpReleasesThem) {
  start({"--schedule.flushDelayOffsetInterval=50"});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(send("T", 0, numbered("t", i), {{"TIMER_DELAY_MS", "3600000"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timers_indexed == 10; }));
  EXPECT_EQ(plugin_->scheduler()->stats().timers_in_memory, 0u) << "an hour ahead is not loaded";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir_ + "/config/timerCheckpoint.json"); }));
  bool slot_file = false;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/timer"))
    slot_file |= e.path().filename().string().rfind("slot-", 0) == 0;
  EXPECT_TRUE(slot_file);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(got("T").empty());
  skew_ = 3600 * 1000 + 1000;  // the wall clock jumps an hour forward
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 10; }, 3s));
}

// A crash after the timer log got entries but before the checkpoint said so: the restart
// indexes them again, and loading the minute de-duplicates them.
TEST_F(ScheduleFixture, ReindexAfterAStaleCheckpointDeliversEachTimerOnce) {
  start({"--schedule.flushDelayOffsetInterval=50"});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(send("T", 0, numbered("c", i), {{"TIMER_DELAY_MS", "3600000"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timers_indexed == 10; }));
  plugin_->stop();
  ASSERT_NE(read_file(dir_ + "/config/timerCheckpoint.json").find("\"timerQueueOffset\":10"), std::string::npos);
  {
    std::ofstream stale(dir_ + "/config/timerCheckpoint.json", std::ios::trunc);
    stale << "{\"timerQueueOffset\":0}\n";
  }
  restart();
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timer_queue_offset == 10; }));
  skew_ = 3600 * 1000 + 1000;
  ASSERT_TRUE(wait_until([&] { return got("T").size() >= 10; }, 3s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(got("T").size(), 10u);
}

TEST(TimerFilesTest, TornAndZeroFilledTailsAreSkippedAndLaterEntriesStillRead) {
  char tmpl[] = "/tmp/mqsched-files-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    TimerFiles files(dir);
    ASSERT_TRUE(files.open().is_ok());
    ASSERT_TRUE(files.append_entry(7, TimerEntry{420000, 100}).is_ok());
    ASSERT_TRUE(files.append_done(7, 100, true).is_ok());
    ASSERT_TRUE(files.sync_all().is_ok());
  }
  {
    std::ofstream tail(dir + "/slot-7.log", std::ios::app | std::ios::binary);
    tail.write("\x01\x02\x03\x00\x00", 5);  // a torn entry, then more zeros
    tail.write(std::string(19, '\0').data(), 19);
  }
  TimerFiles files(dir);
  ASSERT_TRUE(files.open().is_ok());
  EXPECT_EQ(files.slots().count(7), 1u);
  ASSERT_TRUE(files.append_entry(7, TimerEntry{421000, 200}).is_ok());
  auto entries = files.read_slot(7);
  ASSERT_TRUE(entries.is_ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].offset, 100);
  EXPECT_EQ((*entries)[1].offset, 200);
  EXPECT_EQ((*entries)[1].due_ms, 421000);
  auto done = files.read_done(7);
  ASSERT_TRUE(done.is_ok());
  EXPECT_EQ(done->count(100), 1u);
  ASSERT_TRUE(files.remove_slot(7).is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/slot-7.log"));
  std::filesystem::remove_all(dir);
}

TEST_F(ScheduleFixture, BackwardClockJumpNeverDeliversEarlyAndNothingGetsStuck) {
  start({"--schedule.messageDelayLevel=200ms"});
  ASSERT_TRUE(send("T", 0, "lvl", {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(send("T", 0, "tmr", {{"TIMER_DELAY_MS", "200"}}).is_ok());
  skew_ = -3600 * 1000;  // an hour back, before either is due
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(got("T").empty()) << "the clock says neither is due";
  skew_ = 0;  // the clock comes back
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 2; }, 2s));
}

TEST_F(ScheduleFixture, CancelTimerAndLevelMessages) {
  start({"--schedule.messageDelayLevel=600ms", "--schedule.flushDelayOffsetInterval=50"});
  ASSERT_TRUE(send("T", 0, "keepT", {{"TIMER_DELAY_MS", "600"}}).is_ok());
  ASSERT_TRUE(send("T", 0, "dropT", {{"TIMER_DELAY_MS", "600"}}).is_ok());
  ASSERT_TRUE(send("T", 0, "keepL", {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(send("T", 0, "dropL", {{"DELAY", "1"}}).is_ok());
  EXPECT_TRUE(call_cancel("T", "ID-dropT").is_ok());
  EXPECT_TRUE(call_cancel("T", "ID-dropL").is_ok());
  Status again = call_cancel("T", "ID-dropT");
  EXPECT_EQ(again.code(), Code::kQueryNotFound);
  Status wrong_topic = call_cancel("Other", "ID-keepT");
  EXPECT_EQ(wrong_topic.code(), Code::kQueryNotFound);
  Status unknown = call_cancel("T", "nope");
  EXPECT_EQ(unknown.code(), Code::kQueryNotFound);
  EXPECT_NE(unknown.message().find("nope"), std::string::npos) << unknown.message();
  restart();  // cancellations are durable
  ASSERT_TRUE(wait_until([&] { return got("T").size() >= 2; }, 5s));
  std::this_thread::sleep_for(500ms);
  auto out = got("T");
  ASSERT_EQ(out.size(), 2u);
  std::set<std::string> bodies{out[0].body, out[1].body};
  EXPECT_EQ(bodies, (std::set<std::string>{"keepT", "keepL"}));
  EXPECT_EQ(call_cancel("T", "ID-keepL").code(), Code::kQueryNotFound) << "already delivered";
}

TEST_F(ScheduleFixture, SendBackGoesToRetryThenDlqAtTheMax) {
  start({"--schedule.messageDelayLevel=50ms 50ms 100ms 100ms"});
  kernel_->context->set_subscription_group(SubscriptionGroupConfig{.group_name = "G", .retry_max_times = 2});
  ASSERT_TRUE(send("Orders", 3, "order-1", {{"TAGS", "A"}}).is_ok());
  StoredMessage original = got("Orders", 3).at(0);

  ConsumerSendBack req;
  req.group = "G";
  req.offset = original.commit_log_offset;
  req.origin_topic = "Orders";
  req.origin_msg_id = "ID-order-1";
  ASSERT_TRUE(call_send_back(req).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("%RETRY%G").size() == 1; }));
  StoredMessage retry1 = got("%RETRY%G").at(0);
  EXPECT_EQ(retry1.reconsume_times, 1);
  EXPECT_EQ(retry1.body, "order-1");
  EXPECT_EQ(retry1.property(prop::kRetryTopic), "Orders");
  EXPECT_EQ(retry1.property(prop::kOriginMessageId), "ID-order-1");
  EXPECT_EQ(retry1.property(prop::kUniqKey), "ID-order-1");
  EXPECT_EQ(retry1.property(prop::kTags), "A");
  auto retry_topic = kernel_->context->find_topic("%RETRY%G");
  ASSERT_TRUE(retry_topic.has_value());
  EXPECT_EQ(retry_topic->read_queue_nums, 1);
  // The level was 3 + reconsume times 0 = 3 (100 ms).
  StoredMessage scheduled = got(std::string(kScheduleTopic), 2).at(0);
  EXPECT_GE(retry1.store_timestamp_ms, scheduled.store_timestamp_ms + 100);

  req.offset = retry1.commit_log_offset;  // second failure: reconsume 1 -> 2, still <= max 2
  ASSERT_TRUE(call_send_back(req).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("%RETRY%G").size() == 2; }));
  StoredMessage retry2 = got("%RETRY%G").at(1);
  EXPECT_EQ(retry2.reconsume_times, 2);
  req.offset = retry2.commit_log_offset;  // third failure: 2 + 1 > 2 -> DLQ
  ASSERT_TRUE(call_send_back(req).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("%DLQ%G").size() == 1; }));
  StoredMessage dlq = got("%DLQ%G").at(0);
  EXPECT_EQ(dlq.reconsume_times, 3);
  EXPECT_EQ(dlq.property(prop::kRetryTopic), "Orders");
  EXPECT_EQ(dlq.property(prop::kUniqKey), "ID-order-1");
  auto dlq_topic = kernel_->context->find_topic("%DLQ%G");
  ASSERT_TRUE(dlq_topic.has_value());
  EXPECT_EQ(dlq_topic->perm, kPermRead | kPermWrite);

  // delay_level -1: straight to the DLQ; request max overrides the group's.
  req.offset = original.commit_log_offset;
  req.delay_level = -1;
  ASSERT_TRUE(call_send_back(req).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("%DLQ%G").size() == 2; }));
  req.delay_level = 0;
  req.max_reconsume_times = 0;
  ASSERT_TRUE(call_send_back(req).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("%DLQ%G").size() == 3; }));
}

TEST_F(ScheduleFixture, SendBackErrorsAreClear) {
  start({});
  ConsumerSendBack req;
  req.group = "G";
  req.offset = CommitLogOffset(123456);
  Status st = call_send_back(req);
  EXPECT_EQ(st.code(), Code::kQueryNotFound);
  EXPECT_NE(st.message().find("123456"), std::string::npos) << st.message();
  req.group = "bad group!";
  EXPECT_EQ(call_send_back(req).code(), Code::kInvalidParameter);
  req.group = "";
  EXPECT_EQ(call_send_back(req).code(), Code::kInvalidParameter);
}

// A slave's log is a copy of its master's: it must never deliver (that would append to it).
TEST_F(ScheduleFixture, SlaveNeverDeliversAndRefusesRequests) {
  start({"--schedule.messageDelayLevel=50ms"}, /*broker_id=*/1);
  StoredMessage m;  // as replicated from the master: already in the schedule topic
  m.topic = std::string(kScheduleTopic);
  m.queue_id = 0;
  m.body = "copy";
  m.set_property(prop::kRealTopic, "T");
  m.set_property(prop::kRealQueueId, "0");
  m.set_property(prop::kDelayLevel, "1");
  std::promise<Status> put;
  store_->put(std::move(m), [&put](PutResult r) { put.set_value(r.status); });
  ASSERT_TRUE(put.get_future().get().is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // six times the level's delay
  EXPECT_TRUE(got("T", 0).empty()) << "a slave delivered a delayed message";
  EXPECT_EQ(call_cancel("T", "ID-copy").code(), Code::kSlaveNotAvailable);
  ConsumerSendBack req;
  req.group = "G";
  EXPECT_EQ(call_send_back(req).code(), Code::kSlaveNotAvailable);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/config/delayOffset.json")) << "a slave writes no delay offsets";
}

TEST_F(ScheduleFixture, RequestsAfterStopAreAnswered) {
  start({});
  plugin_->stop();
  Status st = call_cancel("T", "x");
  EXPECT_EQ(st.code(), Code::kServiceNotAvailable);
}

// ---- durability (review #1, #5) ----

// Wraps the fake store: the flushed offset can lag (a capped value), and puts to chosen
// topics can answer FLUSH_DISK_TIMEOUT after appending (msync failed).
class LaggingStore final : public testkit::ForwardingMessageStore {
 public:
  using ForwardingMessageStore::ForwardingMessageStore;
  void put(StoredMessage msg, PutCallback done) override {
    const bool timeout = flush_timeout_.load() && msg.topic == flush_timeout_topic_;
    inner().put(std::move(msg), [timeout, done = std::move(done)](PutResult r) {
      if (timeout && r.status.is_ok()) r.status = Status(Code::kFlushDiskTimeout, "msync failed (test)");
      done(std::move(r));
    });
  }
  StoreStats stats() override {
    StoreStats s = inner().stats();
    const int64_t cap = flushed_cap_.load();
    if (cap >= 0 && s.flushed_commit_log_offset.value() > cap) s.flushed_commit_log_offset = CommitLogOffset(cap);
    return s;
  }
  // Freezes the flushed offset where it is now (-1: follows the fake again).
  void freeze_flush() { flushed_cap_ = inner().stats().flushed_commit_log_offset.value(); }
  void thaw_flush() { flushed_cap_ = -1; }
  void flush_timeout_for(const std::string& topic, bool on) {
    flush_timeout_topic_ = topic;  // set before the flag; tests set it while no put runs
    flush_timeout_ = on;
  }

 private:
  std::atomic<int64_t> flushed_cap_{-1};
  std::atomic<bool> flush_timeout_{false};
  std::string flush_timeout_topic_;
};

// A key index that lags once: the first query of the timer topic finds nothing while the
// store reports nothing dispatched, and the index has caught up as soon as that query returns.
class CatchingUpIndexStore final : public testkit::ForwardingMessageStore {
 public:
  using ForwardingMessageStore::ForwardingMessageStore;
  std::vector<StoredMessage> query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                          int64_t begin_ms, int64_t end_ms) override {
    if (topic == kTimerTopic && lagging_.exchange(false)) return {};
    return inner().query_by_key(topic, key, max_count, begin_ms, end_ms);
  }
  StoreStats stats() override {
    StoreStats s = inner().stats();
    if (lagging_.load()) s.dispatched_commit_log_offset = CommitLogOffset(0);
    return s;
  }
  void lag_once() { lagging_ = true; }

 private:
  std::atomic<bool> lagging_{false};
};

TEST_F(ScheduleFixture, CancelRetriesWhenTheIndexCatchesUpDuringTheLookup) {
  // Found by the e2e test (1 run in ~50): the index caught up between the timer-topic query,
  // which missed the message, and the "is the index behind?" check, so the cancel answered
  // "never scheduled" for a message it should have found on a retry.
  auto store = std::make_shared<CatchingUpIndexStore>(store_);
  provided_ = store;
  start({});
  ASSERT_TRUE(send("T", 0, "late", {{"TIMER_DELAY_MS", "60000"}}).is_ok());
  store->lag_once();
  Status st = call_cancel("T", "ID-late");
  EXPECT_TRUE(st.is_ok()) << st.to_string();
}

// An after-store hook that answers `status` while failing is set (a SYNC_MASTER without slave).
class FailingAfterHook final : public AfterStoreHook {
 public:
  void after_store(const StoredRange&, std::function<void(Status)> done) override {
    ++calls;
    done(failing.load() ? Status(Code::kSlaveNotAvailable, "no slave (test)") : Status::ok());
  }
  std::atomic<bool> failing{true};
  std::atomic<int> calls{0};
};

TEST_F(ScheduleFixture, DelayOffsetNeverPassesTheFlushedCommitLog) {
  auto lagging = std::make_shared<LaggingStore>(store_);
  provided_ = lagging;
  start({"--schedule.messageDelayLevel=50ms", "--schedule.flushDelayOffsetInterval=20"});
  lagging->freeze_flush();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send("T", 0, "m" + std::to_string(i), {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 3; }));  // copies appended, not flushed
  std::this_thread::sleep_for(300ms);                             // many persist rounds
  EXPECT_EQ(plugin_->scheduler()->stats().delivered, 0u);
  EXPECT_EQ(read_file(dir_ + "/config/delayOffset.json").find("\"1\":3"), std::string::npos)
      << read_file(dir_ + "/config/delayOffset.json");
  lagging->thaw_flush();
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().delivered == 3; }));
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir_ + "/config/delayOffset.json").find("\"1\":3") != std::string::npos; }));
  EXPECT_EQ(got("T").size(), 3u) << "flushing late must not deliver again";
}

TEST_F(ScheduleFixture, FlushDiskTimeoutIsNotDeliveredAndIsRetried) {
  auto lagging = std::make_shared<LaggingStore>(store_);
  provided_ = lagging;
  lagging->flush_timeout_for("T", true);
  start({"--schedule.messageDelayLevel=50ms", "--schedule.flushDelayOffsetInterval=20"});
  ASSERT_TRUE(send("T", 0, "x", {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().put_failures >= 2; }));
  EXPECT_EQ(plugin_->scheduler()->stats().delivered, 0u);
  EXPECT_EQ(read_file(dir_ + "/config/delayOffset.json").find("\"1\":1"), std::string::npos);
  lagging->flush_timeout_for("T", false);
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().delivered == 1; }));
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir_ + "/config/delayOffset.json").find("\"1\":1") != std::string::npos; }));
  EXPECT_GE(got("T").size(), 2u) << "retried after FLUSH_DISK_TIMEOUT (a duplicate is allowed, a loss is not)";
}

TEST_F(ScheduleFixture, TimerLogAndCheckpointNeverCoverUnflushedRecords) {
  auto lagging = std::make_shared<LaggingStore>(store_);
  provided_ = lagging;
  start({"--schedule.flushDelayOffsetInterval=20"});
  lagging->freeze_flush();
  ASSERT_TRUE(send("T", 0, "t", {{"TIMER_DELAY_MS", "50"}}).is_ok());
  // Delivered from memory on time (a slow ASYNC_FLUSH must not delay it), but neither the timer
  // log, the checkpoint nor a done mark covers it while the commit log is not flushed.
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 1; })) << got("T").size();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(plugin_->scheduler()->stats().timers_indexed, 0u) << "an unflushed timer record was indexed";
  EXPECT_EQ(plugin_->scheduler()->stats().timer_queue_offset, 0);
  EXPECT_EQ(plugin_->scheduler()->stats().delivered, 0u);
  EXPECT_EQ(read_file(dir_ + "/config/timerCheckpoint.json").find("\"timerQueueOffset\":1"), std::string::npos);
  lagging->thaw_flush();
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().delivered == 1; }));
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timers_indexed == 1; }));
  ASSERT_TRUE(wait_until([&] {
    return read_file(dir_ + "/config/timerCheckpoint.json").find("\"timerQueueOffset\":1") != std::string::npos;
  }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(got("T").size(), 1u) << "indexing it after the flush delivered it again";
}

TEST_F(ScheduleFixture, DoneMarkWaitsForTheDeliveredCopyToBeFlushed) {
  auto lagging = std::make_shared<LaggingStore>(store_);
  provided_ = lagging;
  start({"--schedule.flushDelayOffsetInterval=20"});
  ASSERT_TRUE(send("T", 0, "t", {{"TIMER_DELAY_MS", "300"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().timers_indexed == 1; }));
  lagging->freeze_flush();  // the timer record is flushed and indexed; its copy will not be
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(plugin_->scheduler()->stats().delivered, 0u);
  plugin_->stop();  // stops with the copy unflushed: no done mark, delivered again after restart
  StoredMessage timed = got(std::string(kTimerTopic), 0).at(0);
  const int64_t slot = slot_of(std::stoll(std::string(timed.property(kTimerOutMs))));
  {
    TimerFiles files(dir_ + "/timer");
    ASSERT_TRUE(files.open().is_ok());
    ASSERT_EQ(files.slots().count(slot), 1u) << "slot removed while its delivery is unflushed";
    auto done = files.read_done(slot);
    ASSERT_TRUE(done.is_ok());
    EXPECT_EQ(done->count(timed.commit_log_offset.value()), 0u) << "done mark before the copy was flushed";
  }
  lagging->thaw_flush();
  restart();
  ASSERT_TRUE(wait_until([&] { return got("T").size() == 2; })) << "redelivered after the restart";
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().delivered == 1; }));
}

TEST_F(ScheduleFixture, TimerEntryNamingAnotherRecordIsDropped) {
  // A normal record that carries REAL_TOPIC (as a power loss could leave at a reused offset).
  StoredMessage other;
  other.topic = "X";
  other.body = "not a timer";
  other.set_property(prop::kRealTopic, "Y");
  other.set_property(prop::kRealQueueId, "0");
  other.set_property(kTimerOutMs, "1000");
  std::promise<PutResult> put;
  store_->put(other, [&put](PutResult r) { put.set_value(std::move(r)); });
  const int64_t offset = put.get_future().get().commit_log_offset.value();
  // A real timed record, but the entry names another due time.
  StoredMessage timed = other;
  timed.topic = std::string(kTimerTopic);
  std::promise<PutResult> put2;
  store_->put(timed, [&put2](PutResult r) { put2.set_value(std::move(r)); });
  const int64_t offset2 = put2.get_future().get().commit_log_offset.value();
  const int64_t due = real_now() - 1000;
  {
    TimerFiles files(dir_ + "/timer");
    ASSERT_TRUE(files.open().is_ok());
    ASSERT_TRUE(files.append_entry(slot_of(due), TimerEntry{due, offset}).is_ok());
    ASSERT_TRUE(files.append_entry(slot_of(due), TimerEntry{due, offset2}).is_ok());
    ASSERT_TRUE(files.sync_all().is_ok());
  }
  std::filesystem::create_directories(dir_ + "/config");
  { std::ofstream(dir_ + "/config/timerCheckpoint.json") << "{\"timerQueueOffset\":1}\n"; }
  start({"--schedule.flushDelayOffsetInterval=20"});
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(got("Y").empty()) << "delivered a record that is not the indexed timed message";
  plugin_->stop();
  TimerFiles files(dir_ + "/timer");
  ASSERT_TRUE(files.open().is_ok());
  if (files.slots().count(slot_of(due)) > 0) {
    auto done = files.read_done(slot_of(due));
    ASSERT_TRUE(done.is_ok());
    EXPECT_EQ(done->count(offset), 1u);
    EXPECT_EQ(done->count(offset2), 1u);
  }
}

TEST_F(ScheduleFixture, OwnPutsWaitForTheAfterStoreHooks) {
  auto hook = std::make_shared<FailingAfterHook>();
  start({"--schedule.messageDelayLevel=50ms", "--schedule.flushDelayOffsetInterval=20"});
  kernel_->pipeline->add_after_store(hook);
  kernel_->context->set_subscription_group(SubscriptionGroupConfig{.group_name = "G", .retry_max_times = 2});
  ASSERT_TRUE(send("T", 0, "x", {{"DELAY", "1"}}).is_ok());
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().put_failures >= 2; }));
  EXPECT_EQ(plugin_->scheduler()->stats().delivered, 0u) << "counted before a slave had it";
  EXPECT_EQ(read_file(dir_ + "/config/delayOffset.json").find("\"1\":1"), std::string::npos);
  ASSERT_TRUE(send("Orders", 0, "o", {}).is_ok());
  ConsumerSendBack req;
  req.group = "G";
  req.offset = got("Orders").at(0).commit_log_offset;
  req.origin_topic = "Orders";
  Status st = call_send_back(req);
  EXPECT_EQ(st.code(), Code::kSlaveNotAvailable) << st.to_string();
  hook->failing = false;
  EXPECT_TRUE(call_send_back(req).is_ok());
  // Level 1 now holds x and the two send-back copies (the first is stored though its reply failed).
  ASSERT_TRUE(wait_until([&] { return plugin_->scheduler()->stats().delivered == 3; }));
  ASSERT_TRUE(
      wait_until([&] { return read_file(dir_ + "/config/delayOffset.json").find("\"1\":3") != std::string::npos; }));
}

TEST_F(ScheduleFixture, SendBackRefusesSystemAndForeignTopics) {
  start({});
  ASSERT_TRUE(send("T", 0, "d", {{"DELAY", "5"}}).is_ok());  // stored in SCHEDULE_TOPIC_XXXX
  ASSERT_TRUE(send("Other", 0, "o", {}).is_ok());
  ConsumerSendBack req;
  req.group = "G";
  req.origin_topic = "T";
  req.offset = got(std::string(kScheduleTopic), 4).at(0).commit_log_offset;
  Status st = call_send_back(req);
  EXPECT_EQ(st.code(), Code::kNoPermission);
  EXPECT_NE(st.message().find(std::string(kScheduleTopic)), std::string::npos) << st.message();
  req.offset = got("Other").at(0).commit_log_offset;
  st = call_send_back(req);
  EXPECT_EQ(st.code(), Code::kNoPermission);
  EXPECT_NE(st.message().find("'Other'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("'T'"), std::string::npos) << st.message();
  EXPECT_TRUE(got("%RETRY%G").empty());
  EXPECT_TRUE(got(std::string(kScheduleTopic), 2).empty());
}

TEST_F(ScheduleFixture, HookSkipsTransactionalHalvesWhateverThePluginOrder) {
  start({});
  StoredMessage half;  // as after the transaction hook ran first
  half.topic = std::string(kTransactionHalfTopic);
  half.set_property(prop::kDelayLevel, "3");
  half.set_property(prop::kTransactionPrepared, "true");
  ASSERT_TRUE(kernel_->pipeline->run_before_store(half).is_ok());
  EXPECT_EQ(half.topic, kTransactionHalfTopic);
  StoredMessage prepared;  // TRAN_MSG=true, the transaction hook not run yet
  prepared.topic = "T";
  prepared.set_property(prop::kTimerDelayMs, "1000");
  prepared.set_property(prop::kTransactionPrepared, "true");
  ASSERT_TRUE(kernel_->pipeline->run_before_store(prepared).is_ok());
  EXPECT_EQ(prepared.topic, "T");
  EXPECT_EQ(prepared.property(prop::kTimerDelayMs), "1000");
}

TEST_F(ScheduleFixture, OversizedNumbersInProgressFilesAreNamedErrors) {
  std::filesystem::create_directories(dir_ + "/config");
  { std::ofstream(dir_ + "/config/delayOffset.json") << "{\"offsetTable\":{\"1\":99999999999999999999}}\n"; }
  kernel_ = std::make_unique<testkit::FakeKernel>();
  kernel_->host.mutable_identity().store_root = dir_;
  ASSERT_TRUE(kernel_->registry.provide<MessageStore>(store_, "fake").is_ok());
  auto plugin = std::make_unique<SchedulePlugin>();
  ASSERT_TRUE(plugin->init(kernel_->registry, kernel_->host).is_ok());
  Status st = plugin->start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("delayOffset.json"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("99999999999999999999"), std::string::npos) << st.message();
  plugin->stop();
  std::filesystem::remove(dir_ + "/config/delayOffset.json");
  { std::ofstream(dir_ + "/config/timerCheckpoint.json") << "{\"timerQueueOffset\":99999999999999999999}\n"; }
  kernel_ = std::make_unique<testkit::FakeKernel>();
  kernel_->host.mutable_identity().store_root = dir_;
  ASSERT_TRUE(kernel_->registry.provide<MessageStore>(store_, "fake").is_ok());
  plugin = std::make_unique<SchedulePlugin>();
  ASSERT_TRUE(plugin->init(kernel_->registry, kernel_->host).is_ok());
  st = plugin->start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("timerCheckpoint.json"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("timerQueueOffset"), std::string::npos) << st.message();
  plugin->stop();
}

}  // namespace
}  // namespace mq::schedule
