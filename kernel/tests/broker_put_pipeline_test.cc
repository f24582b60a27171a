// The put pipeline around the send path: before-store hooks rewrite or refuse, after-store
// hooks hold or change the reply, and requests needing an absent plugin are refused.
#include <gtest/gtest.h>

#include <future>

#include "broker/broker_core.h"
#include "broker/plugin_services.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

// Moves messages with DELAY to a holding topic, as the schedule plugin does.
class RedirectHook final : public BeforeStoreHook {
 public:
  Status before_store(StoredMessage& msg) override {
    if (msg.property(prop::kDelayLevel).empty()) return Status::ok();
    if (msg.property(prop::kDelayLevel) == "bad") return Status::invalid("delay level 'bad' is not a number");
    msg.set_property(prop::kRealTopic, msg.topic);
    msg.topic = "HOLD";
    msg.queue_id = 0;
    return Status::ok();
  }
};

// Holds every reply until release() and then answers with `status`.
class HoldingHook final : public AfterStoreHook {
 public:
  void after_store(const StoredRange& stored, std::function<void(Status)> done) override {
    std::lock_guard lock(mu_);
    ranges_.push_back(stored);
    held_.push_back(std::move(done));
  }
  void release(Status status) {
    std::vector<std::function<void(Status)>> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    for (auto& done : held) done(status);
  }
  size_t held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  std::vector<StoredRange> ranges() {
    std::lock_guard lock(mu_);
    return ranges_;
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void(Status)>> held_;
  std::vector<StoredRange> ranges_;
};

class FakeSchedule final : public ScheduleService {
 public:
  void send_back(ConsumerSendBack request, Reply<Status> reply) override {
    last_group = request.group;
    reply(Status::ok());
  }
  void cancel(std::string, std::string, Reply<Status> reply) override { reply(Status(Code::kQueryNotFound, "none")); }
  std::string last_group;
};

class BrokerPutPipelineTest : public ::testing::Test {
 protected:
  void start(kernel::BrokerPlugins plugins) {
    store_ = std::make_shared<FakeMessageStore>();
    core_ =
        std::make_unique<kernel::BrokerCore>(test_settings(dir_.path()), store_, quiet_logger(), std::move(plugins));
    ASSERT_TRUE(core_->start().is_ok());
  }
  void TearDown() override {
    if (core_) core_->stop();
  }
  Status send_back(const std::string& group) {
    std::promise<Status> p;
    ConsumerSendBack req;
    req.group = group;
    core_->consumer_send_back(req, [&p](Status st) { p.set_value(std::move(st)); });
    return p.get_future().get();
  }

  TempDir dir_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerPutPipelineTest, BeforeStoreHookRewritesTopicAndKeepsTheReplyQueue) {
  kernel::BrokerPlugins plugins;
  plugins.before_store.push_back(std::make_shared<RedirectHook>());
  plugins.schedule = std::make_shared<FakeSchedule>();
  start(plugins);
  Message m = make_message("later");
  m.set_property(prop::kDelayLevel, "3");
  auto r = send_sync(*core_, make_send("T", {m}));
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  auto held = store_->messages("HOLD", 0);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].property(prop::kRealTopic), "T");
  EXPECT_TRUE(store_->messages("T", r.queue_id).empty());
}

TEST_F(BrokerPutPipelineTest, BeforeStoreRefusalStoresNothing) {
  kernel::BrokerPlugins plugins;
  plugins.before_store.push_back(std::make_shared<RedirectHook>());
  plugins.schedule = std::make_shared<FakeSchedule>();
  start(plugins);
  Message m = make_message("x");
  m.set_property(prop::kDelayLevel, "bad");
  auto r = send_sync(*core_, make_send("T", {m}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("delay level 'bad'"), std::string::npos) << r.status.message();
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerPutPipelineTest, BatchSplitByAHookIsRefusedWhole) {
  kernel::BrokerPlugins plugins;
  plugins.before_store.push_back(std::make_shared<RedirectHook>());
  plugins.schedule = std::make_shared<FakeSchedule>();
  start(plugins);
  Message delayed = make_message("d");
  delayed.set_property(prop::kDelayLevel, "2");
  auto r = send_sync(*core_, make_send("T", {make_message("plain"), delayed}));
  EXPECT_EQ(r.status.code(), Code::kInvalidParameter);
  EXPECT_NE(r.status.message().find("one by one"), std::string::npos) << r.status.message();
  EXPECT_EQ(store_->put_calls(), 0u);
}

TEST_F(BrokerPutPipelineTest, AfterStoreHookHoldsTheReplyAndMayChangeItsStatus) {
  auto hook = std::make_shared<HoldingHook>();
  kernel::BrokerPlugins plugins;
  plugins.after_store.push_back(hook);
  start(plugins);
  std::promise<SendResponse> first;
  core_->send(make_send("T", {make_message("a")}), [&](SendResponse r) { first.set_value(std::move(r)); });
  auto fut = first.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout) << "reply not held";
  ASSERT_EQ(hook->held(), 1u);
  hook->release(Status(Code::kFlushSlaveTimeout, "slave did not ack in time"));
  SendResponse r = fut.get();
  EXPECT_EQ(r.status.code(), Code::kFlushSlaveTimeout);
  ASSERT_EQ(r.results.size(), 1u) << "the message is stored: its result is kept";

  std::promise<SendResponse> second;
  core_->send(make_send("T", {make_message("b"), make_message("c")}),
              [&](SendResponse r2) { second.set_value(std::move(r2)); });
  ASSERT_TRUE(eventually([&] { return hook->held() == 1u; }));
  hook->release(Status::ok());
  r = second.get_future().get();
  EXPECT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.results.size(), 2u);
  auto ranges = hook->ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_LT(ranges[1].begin, ranges[1].end) << "a batch is one range covering every record";
}

TEST_F(BrokerPutPipelineTest, FailedPutSkipsAfterStoreHooks) {
  auto hook = std::make_shared<HoldingHook>();
  kernel::BrokerPlugins plugins;
  plugins.after_store.push_back(hook);
  start(plugins);
  store_->fail_puts_with(Status(Code::kServiceNotAvailable, "disk full"));
  auto r = send_sync(*core_, make_send("T", {make_message("a")}));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_EQ(hook->held(), 0u);
}

TEST_F(BrokerPutPipelineTest, DelayedSendWithoutSchedulePluginIsRefused) {
  start({});
  for (auto [name, value] : {std::pair{prop::kDelayLevel, "2"}, std::pair{prop::kTimerDelayMs, "1000"}}) {
    Message m = make_message("x");
    m.set_property(name, value);
    auto r = send_sync(*core_, make_send("T", {m}));
    EXPECT_EQ(r.status.code(), Code::kRequestCodeNotSupported);
    EXPECT_NE(r.status.message().find("schedule plugin not loaded"), std::string::npos) << r.status.message();
  }
  Message zero = make_message("x");
  zero.set_property(prop::kDelayLevel, "0");  // level 0 means "no delay"
  EXPECT_TRUE(send_sync(*core_, make_send("T", {zero})).status.is_ok());
  EXPECT_EQ(store_->put_calls(), 1u);
}

TEST_F(BrokerPutPipelineTest, PluginRequestsAreRefusedOrForwarded) {
  start({});
  Status st = send_back("G");
  EXPECT_EQ(st.code(), Code::kRequestCodeNotSupported);
  EXPECT_NE(st.message().find("schedule plugin not loaded"), std::string::npos) << st.message();
  std::promise<Status> ended;
  core_->end_transaction(EndTransaction{}, [&](Status s) { ended.set_value(std::move(s)); });
  st = ended.get_future().get();
  EXPECT_NE(st.message().find("transaction plugin not loaded"), std::string::npos) << st.message();
  std::promise<TransactionChecks> polled;
  core_->poll_transaction_checks(TransactionCheckPoll{}, [&](TransactionChecks c) { polled.set_value(std::move(c)); });
  EXPECT_EQ(polled.get_future().get().status.code(), Code::kRequestCodeNotSupported);
  core_->stop();
  core_.reset();

  auto schedule = std::make_shared<FakeSchedule>();
  kernel::BrokerPlugins plugins;
  plugins.schedule = schedule;
  start(plugins);
  EXPECT_TRUE(send_back("G1").is_ok());
  EXPECT_EQ(schedule->last_group, "G1");
}

TEST_F(BrokerPutPipelineTest, ContextProxyAnswersOnlyWhileBound) {
  start({});
  kernel::BrokerContextProxy proxy;
  EXPECT_EQ(proxy.ensure_topic(TopicConfig{"SYS", 1, 1, 6}).status().code(), Code::kServiceNotAvailable);
  EXPECT_FALSE(proxy.find_subscription_group("G"));
  proxy.bind(core_.get());
  auto made = proxy.ensure_topic(TopicConfig{"SYS", 2, 2, 6});
  ASSERT_TRUE(made.is_ok()) << made.status().message();
  EXPECT_EQ(made->write_queue_nums, 2);
  EXPECT_EQ(proxy.ensure_topic(TopicConfig{"SYS", 8, 8, 6})->write_queue_nums, 2) << "an existing topic is kept";
  EXPECT_EQ(proxy.find_subscription_group("G")->retry_max_times, 16);
  EXPECT_FALSE(proxy.producer_online("PG"));
  proxy.unbind();
  EXPECT_FALSE(proxy.find_topic("SYS"));
}

TEST_F(BrokerPutPipelineTest, ClientsCannotSendToSystemTopics) {
  start({});
  for (const char* topic : {"SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC",
                            "TRANS_CHECK_MAX_TIME_TOPIC", "rmq_sys_wheel_timer"}) {
    auto r = send_sync(*core_, make_send(topic, {make_message("forged")}));
    EXPECT_EQ(r.status.code(), Code::kNoPermission) << topic;
    EXPECT_NE(r.status.message().find("system topic"), std::string::npos) << r.status.message();
  }
  EXPECT_EQ(store_->put_calls(), 0u);
  EXPECT_TRUE(send_sync(*core_, make_send("%RETRY%G", {make_message("ok")})).status.is_ok())
      << "retry topics stay writable (RocketMQ's consumer falls back to sending there)";
}

TEST_F(BrokerPutPipelineTest, OwnPutsRunTheAfterStoreHooks) {
  kernel::HookCollector collector;
  bool called = false;
  collector.after_own_put(StoredRange{CommitLogOffset(0), CommitLogOffset(10)}, [&](Status st) {
    called = true;
    EXPECT_TRUE(st.is_ok());
  });
  EXPECT_TRUE(called) << "no hooks: done at once";
  auto hook = std::make_shared<HoldingHook>();
  collector.add_after_store(hook);
  std::promise<Status> done;
  collector.after_own_put(StoredRange{CommitLogOffset(10), CommitLogOffset(20)},
                          [&](Status st) { done.set_value(std::move(st)); });
  ASSERT_EQ(hook->held(), 1u);
  EXPECT_EQ(hook->ranges().front().end, CommitLogOffset(20));
  hook->release(Status(Code::kSlaveNotAvailable, "no slave"));
  EXPECT_EQ(done.get_future().get().code(), Code::kSlaveNotAvailable);
}

// A held reply completed after the broker core is gone (shutdown) must touch nothing the
// core owned.
TEST_F(BrokerPutPipelineTest, HeldReplyCompletesAfterTheCoreIsDestroyed) {
  auto hook = std::make_shared<HoldingHook>();
  kernel::BrokerPlugins plugins;
  plugins.after_store.push_back(hook);
  start(plugins);
  std::promise<SendResponse> reply;
  core_->send(make_send("T", {make_message("a")}), [&](SendResponse r) { reply.set_value(std::move(r)); });
  ASSERT_TRUE(eventually([&] { return hook->held() == 1u; }));
  core_->stop();
  core_.reset();
  hook->release(Status(Code::kFlushSlaveTimeout, "shutting down"));
  EXPECT_EQ(reply.get_future().get().status.code(), Code::kFlushSlaveTimeout);
}

}  // namespace
}  // namespace mq::test
