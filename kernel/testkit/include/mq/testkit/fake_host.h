// Fakes of what the kernel gives a plugin (HostContext, PutPipeline, BrokerContext), so a
// plugin's unit tests drive configure/init/start/stop without a broker.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mq/broker_context.h"
#include "mq/host.h"
#include "mq/put_pipeline.h"
#include "mq/service_registry.h"

namespace mq::testkit {

// Identity as given; loggers write to one shared sink (stderr at warn level by default).
class FakeHostContext final : public HostContext {
 public:
  explicit FakeHostContext(BrokerIdentity identity = {});
  const BrokerIdentity& identity() const override { return identity_; }
  std::shared_ptr<spdlog::logger> logger(const std::string& component) override;
  BrokerIdentity& mutable_identity() { return identity_; }

 private:
  BrokerIdentity identity_;
  std::vector<spdlog::sink_ptr> sinks_;
};

// Collects hooks; run_before_store / run_after_store apply them like the kernel's send path.
class FakePutPipeline final : public PutPipeline {
 public:
  void add_before_store(std::shared_ptr<BeforeStoreHook> hook) override;
  void add_after_store(std::shared_ptr<AfterStoreHook> hook) override;
  // Every before-store hook in order; stops at the first refusal.
  Status run_before_store(StoredMessage& msg);
  // Every after-store hook in order; `done` gets the first non-OK status, or OK.
  void run_after_store(const StoredRange& stored, std::function<void(Status)> done);
  void after_own_put(const StoredRange& stored, std::function<void(Status)> done) override {
    run_after_store(stored, std::move(done));
  }
  size_t before_count() const;
  size_t after_count() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<BeforeStoreHook>> before_;
  std::vector<std::shared_ptr<AfterStoreHook>> after_;
};

// In-memory topics, groups and online producer groups. Threading: any thread.
class FakeBrokerContext final : public BrokerContext {
 public:
  std::optional<TopicConfig> find_topic(const std::string& topic) override;
  Result<TopicConfig> ensure_topic(const TopicConfig& wanted) override;
  std::optional<SubscriptionGroupConfig> find_subscription_group(const std::string& group) override;
  bool producer_online(const std::string& group) override;
  // Returns the text set by set_exported_metadata (default: empty tables).
  Result<std::string> export_metadata() override;
  // Keeps `json` (see imported_metadata); does not parse it.
  Status import_metadata(std::string_view json) override;

  // ---- test controls ----
  void set_exported_metadata(std::string json);
  // The last text given to import_metadata and how many imports happened.
  std::string imported_metadata() const;
  uint64_t import_count() const;
  void set_subscription_group(SubscriptionGroupConfig config);
  void set_producer_online(const std::string& group, bool online);
  // While set, every call answers like a stopped broker core (SERVICE_NOT_AVAILABLE / nullopt).
  void set_unavailable(bool unavailable);
  std::vector<TopicConfig> topics() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, TopicConfig> topics_;
  std::map<std::string, SubscriptionGroupConfig> groups_;
  std::set<std::string> online_;
  bool unavailable_ = false;
  std::string exported_ = R"({"topicConfigTable":{},"subscriptionGroupTable":{},"offsetTable":{}})";
  std::string imported_;
  uint64_t imports_ = 0;
};

// A registry pre-filled like mqbroker's before plugin init(): the fake PutPipeline and
// BrokerContext under provider "kernel". Add a MessageStore etc. as the test needs.
struct FakeKernel {
  FakeKernel();
  ServiceRegistry registry;
  std::shared_ptr<FakePutPipeline> pipeline = std::make_shared<FakePutPipeline>();
  std::shared_ptr<FakeBrokerContext> context = std::make_shared<FakeBrokerContext>();
  FakeHostContext host;
};

}  // namespace mq::testkit
