// TopicConfigManager: the broker's topic table, persisted to <storePathRootDir>/config/topics.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq::kernel {

inline constexpr int32_t kMaxQueueNums = 1024;

// Checks a topic config a client or the file supplies: name, queue counts 1..1024, perm bits.
Status validate_topic_config(const TopicConfig& config);

// Threading: every method is safe from any thread. The table lock is never held across
// file I/O or the change callback; persist() calls are serialized by their own lock.
class TopicConfigManager {
 public:
  TopicConfigManager(std::filesystem::path file, spdlog::logger& log);

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load();
  // Called (outside any lock) after every change of the table.
  void set_on_change(std::function<void()> on_change);

  std::optional<TopicConfig> find(const std::string& topic) const;
  // Validates and creates or replaces the topic.
  Status create_or_update(const TopicConfig& config);
  // Returns the topic, creating it with `queue_nums` read/write queues when absent.
  TopicConfig create_if_absent(const std::string& topic, int32_t queue_nums);
  // Removes the topic; false when it did not exist.
  bool remove(const std::string& topic);
  std::vector<TopicConfig> all() const;  // sorted by name
  size_t size() const;

  // Writes the table if it changed since the last successful write.
  Status persist();
  const std::filesystem::path& file() const { return file_; }

 private:
  void changed();

  const std::filesystem::path file_;
  spdlog::logger& log_;
  mutable std::mutex mu_;
  std::map<std::string, TopicConfig> topics_;  // guarded by mu_
  uint64_t version_ = 0;                       // guarded by mu_; bumped on every change
  std::function<void()> on_change_;            // set before start
  std::mutex persist_mu_;
  uint64_t persisted_version_ = 0;  // guarded by persist_mu_
};

}  // namespace mq::kernel
