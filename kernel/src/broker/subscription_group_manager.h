// SubscriptionGroupManager: the broker's consumer-group table (RocketMQ
// SubscriptionGroupManager), persisted to <storePathRootDir>/config/subscriptionGroup.json.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "broker/json_config_table.h"
#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq::kernel {

// Checks a config a client or the file supplies: group name, retryQueueNums 0..1024,
// retryMaxTimes >= -1, brokerId >= 0, whichBrokerWhenConsumeSlowly >= 0.
Status validate_subscription_group(const SubscriptionGroupConfig& config);

// JsonConfigTable traits of subscriptionGroup.json: {"subscriptionGroupTable": {name: {groupName, ...}}}.
// Absent keys of an entry take the SubscriptionGroupConfig defaults.
struct SubscriptionGroupTableTraits {
  static constexpr const char* kKind = "subscription group";
  static constexpr const char* kRootKey = "subscriptionGroupTable";
  static constexpr const char* kLayoutHint =
      "{\"subscriptionGroupTable\": {name: {consumeEnable, retryQueueNums, ...}}}";
  static constexpr bool kSkipEmptyMissingFile = true;
  static const std::string& name(const SubscriptionGroupConfig& c) { return c.group_name; }
  static Status validate(const SubscriptionGroupConfig& c) { return validate_subscription_group(c); }
  static SubscriptionGroupConfig from_json(const std::string& name, const nlohmann::json& entry);
  static nlohmann::json to_json(const std::string& name, const SubscriptionGroupConfig& c);
  static std::string describe(const SubscriptionGroupConfig& c);
  static std::string auto_created_detail(const SubscriptionGroupConfig&) { return {}; }
};

// Threading: every method is safe from any thread (see JsonConfigTable).
class SubscriptionGroupManager {
 public:
  SubscriptionGroupManager(std::filesystem::path file, spdlog::logger& log) : table_(std::move(file), log) {}

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load() { return table_.load(); }
  // Called (outside any lock) after every change of the table.
  void set_on_change(std::function<void()> on_change) { table_.set_on_change(std::move(on_change)); }

  std::optional<SubscriptionGroupConfig> find(const std::string& group) const { return table_.find(group); }
  // Validates and creates or replaces the group.
  Status create_or_update(const SubscriptionGroupConfig& config) { return table_.create_or_update(config); }
  // Returns the group, creating it with default settings when absent (name not validated here).
  SubscriptionGroupConfig create_if_absent(const std::string& group);
  std::vector<SubscriptionGroupConfig> all() const { return table_.all(); }  // sorted by name
  size_t size() const { return table_.size(); }

  // Writes the table if it changed since the last successful write.
  Status persist() { return table_.persist(); }
  const std::filesystem::path& file() const { return table_.file(); }

 private:
  JsonConfigTable<SubscriptionGroupConfig, SubscriptionGroupTableTraits> table_;
};

}  // namespace mq::kernel
