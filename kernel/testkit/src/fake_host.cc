// FakeHostContext, FakePutPipeline, FakeBrokerContext and FakeKernel.
#include "mq/testkit/fake_host.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace mq::testkit {

FakeHostContext::FakeHostContext(BrokerIdentity identity) : identity_(std::move(identity)) {
  sinks_.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

std::shared_ptr<spdlog::logger> FakeHostContext::logger(const std::string& component) {
  auto log = std::make_shared<spdlog::logger>(component, sinks_.begin(), sinks_.end());
  log->set_level(spdlog::level::warn);
  return log;
}

void FakePutPipeline::add_before_store(std::shared_ptr<BeforeStoreHook> hook) {
  std::lock_guard lock(mu_);
  before_.push_back(std::move(hook));
}

void FakePutPipeline::add_after_store(std::shared_ptr<AfterStoreHook> hook) {
  std::lock_guard lock(mu_);
  after_.push_back(std::move(hook));
}

Status FakePutPipeline::run_before_store(StoredMessage& msg) {
  std::vector<std::shared_ptr<BeforeStoreHook>> hooks;
  {
    std::lock_guard lock(mu_);
    hooks = before_;
  }
  for (const auto& h : hooks)
    if (Status st = h->before_store(msg); !st) return st;
  return Status::ok();
}

void FakePutPipeline::run_after_store(const StoredRange& stored, std::function<void(Status)> done) {
  std::vector<std::shared_ptr<AfterStoreHook>> hooks;
  {
    std::lock_guard lock(mu_);
    hooks = after_;
  }
  struct Chain {
    std::vector<std::shared_ptr<AfterStoreHook>> hooks;
    StoredRange stored;
    std::function<void(Status)> done;
    static void next(std::shared_ptr<Chain> self, size_t i) {
      if (i == self->hooks.size()) return self->done(Status::ok());
      self->hooks[i]->after_store(self->stored, [self, i](Status st) {
        if (!st) return self->done(std::move(st));
        next(self, i + 1);
      });
    }
  };
  Chain::next(std::make_shared<Chain>(Chain{std::move(hooks), stored, std::move(done)}), 0);
}

size_t FakePutPipeline::before_count() const {
  std::lock_guard lock(mu_);
  return before_.size();
}

size_t FakePutPipeline::after_count() const {
  std::lock_guard lock(mu_);
  return after_.size();
}

std::optional<TopicConfig> FakeBrokerContext::find_topic(const std::string& topic) {
  std::lock_guard lock(mu_);
  if (unavailable_) return std::nullopt;
  auto it = topics_.find(topic);
  return it == topics_.end() ? std::nullopt : std::optional(it->second);
}

Result<TopicConfig> FakeBrokerContext::ensure_topic(const TopicConfig& wanted) {
  std::lock_guard lock(mu_);
  if (unavailable_) return Status(Code::kServiceNotAvailable, "fake broker core is not running");
  if (std::string why = validate_topic_name(wanted.topic_name); !why.empty()) return Status::invalid(why);
  return topics_.try_emplace(wanted.topic_name, wanted).first->second;
}

std::optional<SubscriptionGroupConfig> FakeBrokerContext::find_subscription_group(const std::string& group) {
  std::lock_guard lock(mu_);
  if (unavailable_) return std::nullopt;
  if (auto it = groups_.find(group); it != groups_.end()) return it->second;
  SubscriptionGroupConfig defaults;
  defaults.group_name = group;
  return defaults;
}

bool FakeBrokerContext::producer_online(const std::string& group) {
  std::lock_guard lock(mu_);
  return !unavailable_ && online_.count(group) > 0;
}

void FakeBrokerContext::set_subscription_group(SubscriptionGroupConfig config) {
  std::lock_guard lock(mu_);
  groups_[config.group_name] = std::move(config);
}

void FakeBrokerContext::set_producer_online(const std::string& group, bool online) {
  std::lock_guard lock(mu_);
  if (online)
    online_.insert(group);
  else
    online_.erase(group);
}

void FakeBrokerContext::set_unavailable(bool unavailable) {
  std::lock_guard lock(mu_);
  unavailable_ = unavailable;
}

std::vector<TopicConfig> FakeBrokerContext::topics() const {
  std::lock_guard lock(mu_);
  std::vector<TopicConfig> out;
  for (const auto& [name, config] : topics_) out.push_back(config);
  return out;
}

Result<std::string> FakeBrokerContext::export_metadata() {
  std::lock_guard lock(mu_);
  if (unavailable_) return Status(Code::kServiceNotAvailable, "fake broker core is not running");
  return exported_;
}

Status FakeBrokerContext::import_metadata(std::string_view json) {
  std::lock_guard lock(mu_);
  if (unavailable_) return Status(Code::kServiceNotAvailable, "fake broker core is not running");
  imported_ = std::string(json);
  ++imports_;
  return Status::ok();
}

void FakeBrokerContext::set_exported_metadata(std::string json) {
  std::lock_guard lock(mu_);
  exported_ = std::move(json);
}

std::string FakeBrokerContext::imported_metadata() const {
  std::lock_guard lock(mu_);
  return imported_;
}

uint64_t FakeBrokerContext::import_count() const {
  std::lock_guard lock(mu_);
  return imports_;
}

FakeKernel::FakeKernel() {
  (void)registry.provide<PutPipeline>(pipeline, "kernel");
  (void)registry.provide<BrokerContext>(context, "kernel");
}

}  // namespace mq::testkit
