// HookCollector and BrokerContextProxy: the kernel side of the put pipeline and broker context.
#include "broker/plugin_services.h"

#include <mutex>

namespace mq::kernel {

void HookCollector::add_before_store(std::shared_ptr<BeforeStoreHook> hook) {
  if (hook) before_.push_back(std::move(hook));
}

void HookCollector::add_after_store(std::shared_ptr<AfterStoreHook> hook) {
  if (!hook) return;
  auto grown = std::make_shared<AfterStoreHooks>(*after_);
  grown->push_back(std::move(hook));
  after_ = std::move(grown);
}

void HookCollector::after_own_put(const StoredRange& stored, std::function<void(Status)> done) {
  run_after_store_hooks(after_, stored, std::move(done));
}

void run_after_store_hooks(std::shared_ptr<const AfterStoreHooks> hooks, StoredRange stored,
                           std::function<void(Status)> done) {
  struct Chain {
    std::shared_ptr<const AfterStoreHooks> hooks;
    StoredRange stored;
    std::function<void(Status)> done;
    static void next(const std::shared_ptr<Chain>& self, size_t i) {
      if (i == self->hooks->size()) return self->done(Status::ok());
      (*self->hooks)[i]->after_store(self->stored, [self, i](Status st) {
        if (!st) return self->done(std::move(st));
        next(self, i + 1);
      });
    }
  };
  if (!hooks || hooks->empty()) return done(Status::ok());
  Chain::next(std::make_shared<Chain>(Chain{std::move(hooks), stored, std::move(done)}), 0);
}

BrokerPlugins HookCollector::snapshot(const ServiceRegistry& registry) const {
  BrokerPlugins out;
  out.before_store = before_;
  out.after_store = *after_;
  out.schedule = registry.find<ScheduleService>();
  out.transaction = registry.find<TransactionService>();
  out.replication = registry.find<ReplicationService>();
  return out;
}

void BrokerContextProxy::bind(BrokerContext* target) {
  std::unique_lock lock(mu_);
  target_ = target;
}

std::optional<TopicConfig> BrokerContextProxy::find_topic(const std::string& topic) {
  std::shared_lock lock(mu_);
  return target_ ? target_->find_topic(topic) : std::nullopt;
}

Result<TopicConfig> BrokerContextProxy::ensure_topic(const TopicConfig& wanted) {
  std::shared_lock lock(mu_);
  if (!target_)
    return Status(Code::kServiceNotAvailable,
                  "broker core is not running; topic '" + wanted.topic_name + "' cannot be created now");
  return target_->ensure_topic(wanted);
}

std::optional<SubscriptionGroupConfig> BrokerContextProxy::find_subscription_group(const std::string& group) {
  std::shared_lock lock(mu_);
  return target_ ? target_->find_subscription_group(group) : std::nullopt;
}

bool BrokerContextProxy::producer_online(const std::string& group) {
  std::shared_lock lock(mu_);
  return target_ != nullptr && target_->producer_online(group);
}

Result<std::string> BrokerContextProxy::export_metadata() {
  std::shared_lock lock(mu_);
  if (!target_) return Status(Code::kServiceNotAvailable, "broker core is not running; no metadata to export");
  return target_->export_metadata();
}

Status BrokerContextProxy::import_metadata(std::string_view json) {
  std::shared_lock lock(mu_);
  if (!target_) return Status(Code::kServiceNotAvailable, "broker core is not running; metadata not imported");
  return target_->import_metadata(json);
}

Status provide_kernel_services(ServiceRegistry& registry, std::shared_ptr<HookCollector> hooks,
                               std::shared_ptr<BrokerContextProxy> context) {
  if (Status s = registry.provide<PutPipeline>(std::move(hooks), "kernel"); !s) return s;
  return registry.provide<BrokerContext>(std::move(context), "kernel");
}

}  // namespace mq::kernel
