// ConsumerOffsetManager: in-memory offset table with periodic atomic JSON persistence.
#include "broker/consumer_offset_manager.h"

#include "broker/json_file.h"

namespace mq::kernel {

ConsumerOffsetManager::ConsumerOffsetManager(std::filesystem::path file, spdlog::logger& log)
    : file_(std::move(file)), log_(log) {}

Status ConsumerOffsetManager::load() {
  auto loaded = load_json_with_backup(file_, log_);
  if (!loaded) return loaded.status();
  std::map<std::string, std::map<QueueId, int64_t>> table;
  if (loaded->has_value()) {
    try {
      const nlohmann::json& entries = (**loaded).at("offsetTable");
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (it.key().find('@') == std::string::npos)
          return Status::system(file_.string() + ": key '" + it.key() + "' is not of the form topic@group");
        auto& queues = table[it.key()];
        for (auto q = it.value().begin(); q != it.value().end(); ++q) {
          int64_t offset = q.value().get<int64_t>();
          if (offset < 0)
            return Status::system(file_.string() + ": '" + it.key() + "' queue " + q.key() + " has negative offset " +
                                  std::to_string(offset));
          queues[static_cast<QueueId>(std::stol(q.key()))] = offset;
        }
      }
    } catch (const std::exception& e) {
      return Status::system(file_.string() + " has an unexpected layout (" + e.what() +
                            "); expected {\"offsetTable\": {\"topic@group\": {\"queueId\": offset}}}");
    }
  }
  std::lock_guard lock(mu_);
  table_ = std::move(table);
  return Status::ok();
}

void ConsumerOffsetManager::commit(const std::string& group, const std::string& topic, QueueId queue_id,
                                   int64_t offset) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = table_[key(topic, group)].try_emplace(queue_id, offset);
  if (inserted || it->second != offset) {
    it->second = offset;
    ++version_;
  }
}

std::optional<int64_t> ConsumerOffsetManager::query(const std::string& group, const std::string& topic,
                                                    QueueId queue_id) const {
  std::lock_guard lock(mu_);
  auto it = table_.find(key(topic, group));
  if (it == table_.end()) return std::nullopt;
  auto q = it->second.find(queue_id);
  if (q == it->second.end()) return std::nullopt;
  return q->second;
}

std::map<std::string, std::map<QueueId, int64_t>> ConsumerOffsetManager::offsets_of_group(
    const std::string& group) const {
  std::map<std::string, std::map<QueueId, int64_t>> out;
  const std::string suffix = "@" + group;
  std::lock_guard lock(mu_);
  for (const auto& [k, queues] : table_) {
    // Topics never contain '@', so the first '@' splits topic from group.
    size_t at = k.find('@');
    if (at != std::string::npos && k.compare(at, std::string::npos, suffix) == 0) out[k.substr(0, at)] = queues;
  }
  return out;
}

std::map<std::string, std::map<QueueId, int64_t>> ConsumerOffsetManager::all() const {
  std::lock_guard lock(mu_);
  return table_;
}

void ConsumerOffsetManager::replace_all(std::map<std::string, std::map<QueueId, int64_t>> table) {
  std::lock_guard lock(mu_);
  if (table == table_) return;
  table_ = std::move(table);
  ++version_;
}

size_t ConsumerOffsetManager::remove_topic(const std::string& topic) {
  const std::string prefix = topic + "@";
  std::lock_guard lock(mu_);
  size_t n = std::erase_if(table_, [&](const auto& kv) { return kv.first.compare(0, prefix.size(), prefix) == 0; });
  if (n > 0) ++version_;
  return n;
}

Status ConsumerOffsetManager::persist() {
  std::lock_guard persist_lock(persist_mu_);
  nlohmann::json table = nlohmann::json::object();
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    version = version_;
    if (version == persisted_version_) return Status::ok();
    for (const auto& [k, queues] : table_) {
      nlohmann::json q = nlohmann::json::object();
      for (const auto& [id, offset] : queues) q[std::to_string(id)] = offset;
      table[k] = std::move(q);
    }
  }
  nlohmann::json root = {{"offsetTable", std::move(table)}};
  // `replace`: never throws on bytes that are not UTF-8 (names are validated ASCII anyway).
  const std::string text = root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (Status st = write_file_atomically(file_, text); !st) return st;
  persisted_version_ = version;
  return Status::ok();
}

}  // namespace mq::kernel
