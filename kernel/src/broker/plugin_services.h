// The kernel services plugins reach through the registry (PutPipeline, BrokerContext) and
// the plugin services the kernel dispatches to (ScheduleService, TransactionService).
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mq/broker_context.h"
#include "mq/put_pipeline.h"
#include "mq/replication_service.h"
#include "mq/schedule_service.h"
#include "mq/service_registry.h"
#include "mq/transaction_service.h"

namespace mq::kernel {

using AfterStoreHooks = std::vector<std::shared_ptr<AfterStoreHook>>;

// Runs `hooks` in order over `stored`, stopping at the first non-OK status, and calls
// `done` exactly once with it (or OK). Keeps `hooks` alive until done, so a completion that
// arrives during shutdown touches nothing the broker core owned.
void run_after_store_hooks(std::shared_ptr<const AfterStoreHooks> hooks, StoredRange stored,
                           std::function<void(Status)> done);

// What the broker core uses from plugins; empty members mean "plugin not loaded".
// Filled once after every plugin's init() and read-only afterwards.
struct BrokerPlugins {
  std::vector<std::shared_ptr<BeforeStoreHook>> before_store;
  std::vector<std::shared_ptr<AfterStoreHook>> after_store;
  std::shared_ptr<ScheduleService> schedule;
  std::shared_ptr<TransactionService> transaction;
  std::shared_ptr<ReplicationService> replication;  // ha-sync: runtime info
};

// The kernel's PutPipeline: collects hooks during plugin init().
// Threading: main thread only (plugin init), then snapshot() once.
class HookCollector final : public PutPipeline {
 public:
  void add_before_store(std::shared_ptr<BeforeStoreHook> hook) override;
  void add_after_store(std::shared_ptr<AfterStoreHook> hook) override;
  void after_own_put(const StoredRange& stored, std::function<void(Status)> done) override;
  // The hooks plus the schedule and transaction services found in `registry`.
  BrokerPlugins snapshot(const ServiceRegistry& registry) const;

 private:
  std::vector<std::shared_ptr<BeforeStoreHook>> before_;
  // Replaced (never mutated) by add_after_store during init; read by after_own_put later.
  std::shared_ptr<const AfterStoreHooks> after_ = std::make_shared<AfterStoreHooks>();
};

// The BrokerContext plugins get: forwards to the broker core while one is bound, and
// answers SERVICE_NOT_AVAILABLE / nullopt / false otherwise (before start, after stop).
// Threading: any thread; bind/unbind exclude in-flight calls.
class BrokerContextProxy final : public BrokerContext {
 public:
  void bind(BrokerContext* target);
  void unbind() { bind(nullptr); }

  std::optional<TopicConfig> find_topic(const std::string& topic) override;
  Result<TopicConfig> ensure_topic(const TopicConfig& wanted) override;
  std::optional<SubscriptionGroupConfig> find_subscription_group(const std::string& group) override;
  bool producer_online(const std::string& group) override;
  Result<std::string> export_metadata() override;
  Status import_metadata(std::string_view json) override;

 private:
  std::shared_mutex mu_;
  BrokerContext* target_ = nullptr;  // guarded by mu_
};

// Registers the kernel-provided services (PutPipeline, BrokerContext) under provider "kernel".
Status provide_kernel_services(ServiceRegistry& registry, std::shared_ptr<HookCollector> hooks,
                               std::shared_ptr<BrokerContextProxy> context);

}  // namespace mq::kernel
