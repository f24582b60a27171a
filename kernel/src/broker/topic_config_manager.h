// TopicConfigManager: the broker's topic table, persisted to <storePathRootDir>/config/topics.json.
#pragma once

#include <cstdint>
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

inline constexpr int32_t kMaxQueueNums = 1024;

// Checks a topic config a client or the file supplies: name, queue counts 1..1024, perm bits.
Status validate_topic_config(const TopicConfig& config);

// JsonConfigTable traits of topics.json: {"topicConfigTable": {name: {topicName, readQueueNums, ...}}}.
struct TopicTableTraits {
  static constexpr const char* kKind = "topic";
  static constexpr const char* kRootKey = "topicConfigTable";
  static constexpr const char* kLayoutHint =
      "{\"topicConfigTable\": {name: {readQueueNums, writeQueueNums, perm}}}";
  static constexpr bool kSkipEmptyMissingFile = false;
  static const std::string& name(const TopicConfig& c) { return c.topic_name; }
  static Status validate(const TopicConfig& c) { return validate_topic_config(c); }
  static TopicConfig from_json(const std::string& name, const nlohmann::json& entry);
  static nlohmann::json to_json(const std::string& name, const TopicConfig& c);
  static std::string describe(const TopicConfig& c);
  static std::string auto_created_detail(const TopicConfig& c);
};

// Threading: every method is safe from any thread (see JsonConfigTable).
class TopicConfigManager {
 public:
  TopicConfigManager(std::filesystem::path file, spdlog::logger& log) : table_(std::move(file), log) {}

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load() { return table_.load(); }
  // Called (outside any lock) after every change of the table.
  void set_on_change(std::function<void()> on_change) { table_.set_on_change(std::move(on_change)); }

  std::optional<TopicConfig> find(const std::string& topic) const { return table_.find(topic); }
  // Validates and creates or replaces the topic.
  Status create_or_update(const TopicConfig& config) { return table_.create_or_update(config); }
  // Returns the topic, creating it with `queue_nums` read/write queues when absent.
  TopicConfig create_if_absent(const std::string& topic, int32_t queue_nums);
  // Returns the topic, creating it as `wanted` (validated) when absent.
  Result<TopicConfig> ensure(const TopicConfig& wanted);
  // Removes the topic; false when it did not exist.
  bool remove(const std::string& topic) { return table_.remove(topic); }
  std::vector<TopicConfig> all() const { return table_.all(); }  // sorted by name
  size_t size() const { return table_.size(); }

  // Writes the table if it changed since the last successful write.
  Status persist() { return table_.persist(); }
  const std::filesystem::path& file() const { return table_.file(); }

 private:
  JsonConfigTable<TopicConfig, TopicTableTraits> table_;
};

}  // namespace mq::kernel
