// The audit plugin's unit tests: options, line format, and the whole lifecycle driven with
// the installed testkit (FakeKernel, FakeMessageStore, make_plugin_options): no broker.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "audit_options.h"
#include "audit_plugin.h"
#include "audit_writer.h"
#include "mq/testkit/fake_config.h"
#include "mq/testkit/fake_host.h"
#include "mq/testkit/fake_message_store.h"

namespace audit {
namespace {

class TempFile {
 public:
  TempFile() : path_(::testing::TempDir() + "audit-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)) {
    std::remove(path_.c_str());
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

TEST(AuditOptionsTest, FileIsRequiredAndTopicsAreAList) {
  auto missing = mq::testkit::make_plugin_options(audit_descriptor(), {});
  ASSERT_TRUE(missing);
  auto refused = parse_audit_options(*missing);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.status().message().find("[audit] file"), std::string::npos) << refused.status().message();

  auto vm = mq::testkit::make_plugin_options(audit_descriptor(), {"audit.file=/tmp/a.log", "audit.topics=A,,B"});
  ASSERT_TRUE(vm) << vm.status().message();
  auto options = parse_audit_options(*vm);
  ASSERT_TRUE(options) << options.status().message();
  EXPECT_EQ(options->file, "/tmp/a.log");
  EXPECT_EQ(options->topics, (std::set<std::string>{"A", "B"}));

  auto bad = mq::testkit::make_plugin_options(audit_descriptor(), {"audit.file=x", "audit.queueCapacity=0"});
  ASSERT_TRUE(bad);
  auto out_of_range = parse_audit_options(*bad);
  ASSERT_FALSE(out_of_range);
  EXPECT_NE(out_of_range.status().message().find("queueCapacity=0"), std::string::npos);
}

TEST(AuditLineTest, NamesTheMessage) {
  mq::StoredMessage msg;
  msg.topic = "Orders";
  msg.queue_id = 2;
  msg.queue_offset = mq::QueueOffset(7);
  msg.body = "12345";
  msg.set_property(mq::prop::kTags, "TagA");
  const std::string line = format_audit_line(msg);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_NE(line.find("topic=Orders queueId=2 queueOffset=7 "), std::string::npos) << line;
  EXPECT_NE(line.find(" tags=TagA "), std::string::npos) << line;
  EXPECT_NE(line.find(" bodySize=5\n"), std::string::npos) << line;
}

// The plugin as the broker runs it: the kernel's services are fakes, the store is in memory.
class AuditPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(kernel_.registry.provide<mq::MessageStore>(store_, "fake-store")); }
  void TearDown() override {
    if (plugin_ != nullptr) {
      plugin_->stop();
      audit_descriptor().destroy(plugin_);
    }
  }

  void start(std::vector<std::string> settings) {
    settings.push_back("audit.file=" + file_.path());
    auto vm = mq::testkit::make_plugin_options(audit_descriptor(), settings);
    ASSERT_TRUE(vm) << vm.status().message();
    plugin_ = audit_descriptor().create();
    ASSERT_NE(plugin_, nullptr);
    ASSERT_TRUE(plugin_->configure(*vm));
    ASSERT_TRUE(plugin_->init(kernel_.registry, kernel_.host));
    ASSERT_EQ(kernel_.pipeline->after_count(), 1u);
    ASSERT_TRUE(plugin_->start());
  }

  // Stores `bodies` in `topic` as one put (a batch) and runs the after-store hooks over the
  // stored range like the kernel does; returns the status the reply would carry.
  mq::Status put(const std::string& topic, const std::vector<std::string>& bodies) {
    std::vector<mq::StoredMessage> msgs(bodies.size());
    for (size_t i = 0; i < bodies.size(); ++i) {
      msgs[i].topic = topic;
      msgs[i].body = bodies[i];
    }
    std::vector<mq::PutResult> results;
    store_->put_batch(msgs, [&](std::vector<mq::PutResult> r) { results = std::move(r); });
    store_->drain();
    mq::StoredRange range{results.front().commit_log_offset,
                          mq::CommitLogOffset(results.back().commit_log_offset.value() + results.back().wrote_bytes)};
    mq::Status replied = mq::Status::system("hook did not complete the put");
    const auto caller = std::this_thread::get_id();
    kernel_.pipeline->run_after_store(range, [&](mq::Status s) {
      EXPECT_EQ(std::this_thread::get_id(), caller);  // completed at once, on the put's thread
      replied = s;
    });
    return replied;
  }

  mq::testkit::FakeKernel kernel_;
  std::shared_ptr<mq::testkit::FakeMessageStore> store_ = std::make_shared<mq::testkit::FakeMessageStore>();
  TempFile file_;
  mq::Plugin* plugin_ = nullptr;
};

TEST_F(AuditPluginTest, WritesOneLinePerStoredMessageOfEveryPut) {
  start({});
  ASSERT_TRUE(put("Orders", {"a"}));
  ASSERT_TRUE(put("Orders", {"b", "cc", "ddd"}));  // a batch: one range, three records
  ASSERT_TRUE(put("Other", {"e"}));
  plugin_->stop();  // drains the writer
  auto lines = file_.lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_NE(lines[0].find("topic=Orders queueId=0 queueOffset=0 "), std::string::npos) << lines[0];
  EXPECT_NE(lines[3].find("queueOffset=3 "), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("bodySize=3"), std::string::npos) << lines[3];
  EXPECT_NE(lines[4].find("topic=Other "), std::string::npos) << lines[4];
}

TEST_F(AuditPluginTest, AuditsOnlyTheConfiguredTopics) {
  start({"audit.topics=Orders"});
  ASSERT_TRUE(put("Orders", {"a", "b"}));
  ASSERT_TRUE(put("Other", {"c"}));
  plugin_->stop();
  auto lines = file_.lines();
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) EXPECT_NE(l.find("topic=Orders "), std::string::npos) << l;
}

TEST_F(AuditPluginTest, InitFailsNamingTheFileItCannotOpen) {
  auto vm = mq::testkit::make_plugin_options(audit_descriptor(), {"audit.file=/nonexistent-dir/audit.log"});
  ASSERT_TRUE(vm);
  plugin_ = audit_descriptor().create();
  ASSERT_TRUE(plugin_->configure(*vm));
  mq::Status s = plugin_->init(kernel_.registry, kernel_.host);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("/nonexistent-dir/audit.log"), std::string::npos) << s.message();
}

TEST(AuditWriterTest, AFullQueueDropsAndSaysSoInTheFile) {
  TempFile file;
  auto store = std::make_shared<mq::testkit::FakeMessageStore>();
  mq::StoredMessage msg;
  msg.topic = "T";
  std::vector<mq::PutResult> results;
  store->put_batch({msg, msg, msg}, [&](std::vector<mq::PutResult> r) { results = std::move(r); });
  store->drain();
  mq::testkit::FakeHostContext host;
  AuditOptions options;
  options.file = file.path();
  options.queue_capacity = 2;
  AuditWriter writer(store, options, host.logger("audit"));
  ASSERT_TRUE(writer.open());
  // Not started yet, so nothing drains: the third range does not fit.
  for (const auto& r : results)
    writer.enqueue({r.commit_log_offset, mq::CommitLogOffset(r.commit_log_offset.value() + r.wrote_bytes)});
  writer.stop();
  EXPECT_EQ(writer.dropped(), 1u);
  EXPECT_EQ(writer.lines_written(), 2u);
  auto lines = file.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "# DROPPED 1 stored puts (audit queue full or stopped)");
  EXPECT_FALSE(writer.enqueue({results[0].commit_log_offset, results[0].commit_log_offset}));  // stopped
}

}  // namespace
}  // namespace audit
