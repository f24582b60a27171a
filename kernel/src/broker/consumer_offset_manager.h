// ConsumerOffsetManager: committed consumer offsets per (group, topic, queue), persisted to
// <storePathRootDir>/config/consumerOffset.json in RocketMQ's layout ("topic@group" -> queue -> offset).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "mq/status.h"
#include "mq/types.h"

namespace mq::kernel {

// Threading: every method is safe from any thread; the table lock is never held across
// file I/O; persist() calls are serialized by their own lock.
class ConsumerOffsetManager {
 public:
  ConsumerOffsetManager(std::filesystem::path file, spdlog::logger& log);

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load();
  // offset >= 0 (the caller validates).
  void commit(const std::string& group, const std::string& topic, QueueId queue_id, int64_t offset);
  std::optional<int64_t> query(const std::string& group, const std::string& topic, QueueId queue_id) const;
  // topic -> queue -> offset, for every topic the group has offsets for.
  std::map<std::string, std::map<QueueId, int64_t>> offsets_of_group(const std::string& group) const;

  // The whole table ("topic@group" -> queue -> offset), for replication to a slave.
  std::map<std::string, std::map<QueueId, int64_t>> all() const;
  // Replaces the whole table (a slave mirroring its master's offsets).
  void replace_all(std::map<std::string, std::map<QueueId, int64_t>> table);

  // Drops every group's offsets of `topic`; returns how many (topic, group) entries.
  size_t remove_topic(const std::string& topic);

  // Writes the table if it changed since the last successful write.
  Status persist();
  const std::filesystem::path& file() const { return file_; }

 private:
  static std::string key(const std::string& topic, const std::string& group) { return topic + "@" + group; }

  const std::filesystem::path file_;
  spdlog::logger& log_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<QueueId, int64_t>> table_;  // "topic@group" -> queue -> offset; mu_
  uint64_t version_ = 0;                                     // guarded by mu_
  std::mutex persist_mu_;
  uint64_t persisted_version_ = 0;  // guarded by persist_mu_
};

}  // namespace mq::kernel
