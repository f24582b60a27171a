// SubscriptionGroupManager: the broker's consumer-group table (RocketMQ
// SubscriptionGroupManager), persisted to <storePathRootDir>/config/subscriptionGroup.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq::kernel {

// Checks a config a client or the file supplies: group name, retryQueueNums 0..1024,
// retryMaxTimes >= -1, brokerId >= 0, whichBrokerWhenConsumeSlowly >= 0.
Status validate_subscription_group(const SubscriptionGroupConfig& config);

// Threading: every method is safe from any thread. The table lock is never held across
// file I/O or the change callback; persist() calls are serialized by their own lock.
class SubscriptionGroupManager {
 public:
  SubscriptionGroupManager(std::filesystem::path file, spdlog::logger& log);

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load();
  // Called (outside any lock) after every change of the table.
  void set_on_change(std::function<void()> on_change);

  std::optional<SubscriptionGroupConfig> find(const std::string& group) const;
  // Validates and creates or replaces the group.
  Status create_or_update(const SubscriptionGroupConfig& config);
  // Returns the group, creating it with default settings when absent (name not validated here).
  SubscriptionGroupConfig create_if_absent(const std::string& group);
  std::vector<SubscriptionGroupConfig> all() const;  // sorted by name
  size_t size() const;

  // Writes the table if it changed since the last successful write.
  Status persist();
  const std::filesystem::path& file() const { return file_; }

 private:
  void changed();

  const std::filesystem::path file_;
  spdlog::logger& log_;
  mutable std::mutex mu_;
  std::map<std::string, SubscriptionGroupConfig> groups_;  // guarded by mu_
  uint64_t version_ = 0;                                   // guarded by mu_; bumped on every change
  std::function<void()> on_change_;                        // set before start
  std::mutex persist_mu_;
  uint64_t persisted_version_ = 0;  // guarded by persist_mu_
};

}  // namespace mq::kernel
