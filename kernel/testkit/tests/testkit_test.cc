// Tests of the plugin testkit itself: the fakes behave as their headers promise, so plugin
// tests built on them test the plugin and not the fake.
#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/program_options/value_semantic.hpp>

#include "mq/testkit/fake_config.h"
#include "mq/testkit/fake_host.h"
#include "mq/testkit/fake_message_store.h"
#include "mq/testkit/forwarding_message_store.h"

namespace mq::testkit {
namespace {

namespace po = boost::program_options;

void declare_demo(po::options_description& out) {
  out.add_options()("demo.file", po::value<std::string>()->default_value("demo.log"), "a file")(
      "demo.count", po::value<int>()->default_value(3), "a number");
}

TEST(FakeConfigTest, DefaultsApplyWhenNothingIsSet) {
  auto vm = make_plugin_options(&declare_demo, {});
  ASSERT_TRUE(vm) << vm.status().message();
  EXPECT_EQ((*vm)["demo.file"].as<std::string>(), "demo.log");
  EXPECT_EQ((*vm)["demo.count"].as<int>(), 3);
}

TEST(FakeConfigTest, SettingsOverrideDefaults) {
  auto vm = make_plugin_options(&declare_demo, {"demo.file=/tmp/x y.log", "demo.count=12"});
  ASSERT_TRUE(vm) << vm.status().message();
  EXPECT_EQ((*vm)["demo.file"].as<std::string>(), "/tmp/x y.log");
  EXPECT_EQ((*vm)["demo.count"].as<int>(), 12);
}

TEST(FakeConfigTest, UnknownKeyBadValueAndMalformedSettingAreErrorsNamingThem) {
  auto unknown = make_plugin_options(&declare_demo, {"demo.nope=1"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.status().message().find("demo.nope"), std::string::npos) << unknown.status().message();
  auto bad = make_plugin_options(&declare_demo, {"demo.count=many"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("demo.count"), std::string::npos) << bad.status().message();
  auto malformed = make_plugin_options(&declare_demo, {"demo.count"});
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.status().message().find("'demo.count'"), std::string::npos);
}

TEST(FakeConfigTest, TakesTheDescriptorsDeclareFunction) {
  PluginDescriptor d{};
  d.declare_options = &declare_demo;
  auto vm = make_plugin_options(d, {"demo.count=5"});
  ASSERT_TRUE(vm);
  EXPECT_EQ((*vm)["demo.count"].as<int>(), 5);
  d.declare_options = nullptr;
  EXPECT_FALSE(make_plugin_options(d, {}));
}

// Records its calls; refuses messages of topic "Refused"; renames "Old" to "New".
struct RecordingHook final : BeforeStoreHook, AfterStoreHook {
  std::vector<std::string> calls;
  Status after_status = Status::ok();
  Status before_store(StoredMessage& msg) override {
    calls.push_back("before " + msg.topic);
    if (msg.topic == "Refused") return Status(Code::kMessageIllegal, "refused");
    if (msg.topic == "Old") msg.topic = "New";
    return Status::ok();
  }
  void after_store(const StoredRange& stored, std::function<void(Status)> done) override {
    calls.push_back("after " + std::to_string(stored.begin.value()) + "-" + std::to_string(stored.end.value()));
    done(after_status);
  }
};

TEST(FakePutPipelineTest, RunsHooksInOrderAndStopsAtTheFirstRefusal) {
  FakePutPipeline pipeline;
  auto first = std::make_shared<RecordingHook>();
  auto second = std::make_shared<RecordingHook>();
  pipeline.add_before_store(first);
  pipeline.add_before_store(second);
  pipeline.add_after_store(first);
  pipeline.add_after_store(second);
  EXPECT_EQ(pipeline.before_count(), 2u);
  EXPECT_EQ(pipeline.after_count(), 2u);

  StoredMessage msg;
  msg.topic = "Old";
  ASSERT_TRUE(pipeline.run_before_store(msg));
  EXPECT_EQ(msg.topic, "New");
  EXPECT_EQ(second->calls, std::vector<std::string>{"before New"});  // saw the first hook's rewrite

  msg.topic = "Refused";
  EXPECT_EQ(pipeline.run_before_store(msg).code(), Code::kMessageIllegal);
  EXPECT_EQ(second->calls.size(), 1u);  // not reached

  first->after_status = Status(Code::kFlushSlaveTimeout, "slow slave");
  Status got = Status::ok();
  pipeline.run_after_store(StoredRange{CommitLogOffset(10), CommitLogOffset(20)}, [&](Status s) { got = s; });
  EXPECT_EQ(got.code(), Code::kFlushSlaveTimeout);
  EXPECT_EQ(first->calls.back(), "after 10-20");
  EXPECT_EQ(second->calls, std::vector<std::string>{"before New"});  // the chain stopped at the first error
}

TEST(FakeBrokerContextTest, EnsuresTopicsOnceAndAnswersLikeAStoppedCoreWhenUnavailable) {
  FakeBrokerContext context;
  TopicConfig wanted;
  wanted.topic_name = "T";
  ASSERT_TRUE(context.ensure_topic(wanted));
  ASSERT_TRUE(context.find_topic("T"));
  EXPECT_FALSE(context.find_topic("U"));
  wanted.topic_name = "bad topic";
  EXPECT_FALSE(context.ensure_topic(wanted));
  context.set_producer_online("pg", true);
  EXPECT_TRUE(context.producer_online("pg"));
  context.set_unavailable(true);
  EXPECT_FALSE(context.find_topic("T"));
  EXPECT_FALSE(context.producer_online("pg"));
  EXPECT_EQ(context.ensure_topic(TopicConfig{}).status().code(), Code::kServiceNotAvailable);
}

TEST(FakeKernelTest, RegistryHoldsTheKernelServices) {
  FakeKernel kernel;
  EXPECT_EQ(kernel.registry.find<PutPipeline>(), kernel.pipeline);
  EXPECT_EQ(kernel.registry.find<BrokerContext>(), kernel.context);
  EXPECT_EQ(kernel.registry.find<MessageStore>(), nullptr);
  EXPECT_NE(kernel.host.logger("x"), nullptr);
}

TEST(FakeMessageStoreTest, RecordsAreContiguousAndReadableByCommitLogOffset) {
  FakeMessageStore store;
  std::vector<StoredMessage> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].topic = "T";
    batch[i].body = "body-" + std::to_string(i);
  }
  std::vector<PutResult> results;
  store.put_batch(batch, [&](std::vector<PutResult> r) { results = std::move(r); });
  store.drain();
  ASSERT_EQ(results.size(), 3u);
  // Walking [first, end) by store_size visits each record once: what after-store hooks do.
  CommitLogOffset at = results[0].commit_log_offset;
  const CommitLogOffset end = store.stats().max_commit_log_offset;
  std::vector<std::string> bodies;
  while (at.value() < end.value()) {
    auto rec = store.read_at(at);
    ASSERT_TRUE(rec) << rec.status().message();
    ASSERT_GT(rec->store_size, 0);
    bodies.push_back(rec->body);
    at = CommitLogOffset(at.value() + rec->store_size);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"body-0", "body-1", "body-2"}));
  EXPECT_EQ(store.max_offset("T", 0).value(), 3);

  std::atomic<int> arrivals{0};
  store.add_arrival_listener([&](const std::string&, QueueId, QueueOffset, int64_t) { ++arrivals; });
  store.fail_puts_with(Status(Code::kServiceNotAvailable, "disk full"));
  PutResult failed;
  store.put(batch[0], [&](PutResult r) { failed = std::move(r); });
  store.drain();
  EXPECT_EQ(failed.status.code(), Code::kServiceNotAvailable);
  EXPECT_EQ(arrivals.load(), 0);
  EXPECT_EQ(store.max_offset("T", 0).value(), 3);
}

// A decorator that overrides one call sees every other call reach the inner store.
TEST(ForwardingMessageStoreTest, ForwardsEverythingItDoesNotOverride) {
  class CountingStore final : public ForwardingMessageStore {
   public:
    using ForwardingMessageStore::ForwardingMessageStore;
    StoreStats stats() override {
      ++stats_calls;
      return inner().stats();
    }
    int stats_calls = 0;
  };
  auto fake = std::make_shared<FakeMessageStore>();
  CountingStore store(fake);
  StoredMessage m;
  m.topic = "T";
  m.body = "b";
  std::promise<PutResult> put;
  store.put(m, [&put](PutResult r) { put.set_value(std::move(r)); });
  PutResult r = put.get_future().get();
  ASSERT_TRUE(r.status.is_ok());
  fake->drain();
  EXPECT_EQ(store.max_offset("T", 0), QueueOffset(1));
  EXPECT_EQ(store.read_at(r.commit_log_offset)->body, "b");
  EXPECT_EQ(fake->put_calls(), 1u);
  store.stats();
  EXPECT_EQ(store.stats_calls, 1);
}

}  // namespace
}  // namespace mq::testkit
