// TopicConfigManager: topic table, validation and JSON persistence.
#include "broker/topic_config_manager.h"

#include "broker/json_file.h"

namespace mq::kernel {

Status validate_topic_config(const TopicConfig& config) {
  if (std::string why = validate_topic_name(config.topic_name); !why.empty()) return Status::invalid(why);
  auto check = [&](const char* key, int32_t n) -> Status {
    if (n < 1 || n > kMaxQueueNums)
      return Status::invalid(std::string(key) + " of topic '" + config.topic_name + "' is " + std::to_string(n) +
                             "; it must be between 1 and " + std::to_string(kMaxQueueNums));
    return Status::ok();
  };
  if (Status st = check("readQueueNums", config.read_queue_nums); !st) return st;
  if (Status st = check("writeQueueNums", config.write_queue_nums); !st) return st;
  if ((config.perm & ~(kPermRead | kPermWrite | kPermInherit)) != 0)
    return Status::invalid("perm of topic '" + config.topic_name + "' is " + std::to_string(config.perm) +
                           "; allowed bits are 4 (read), 2 (write) and 1 (inherit)");
  return Status::ok();
}

TopicConfigManager::TopicConfigManager(std::filesystem::path file, spdlog::logger& log)
    : file_(std::move(file)), log_(log) {}

Status TopicConfigManager::load() {
  auto loaded = load_json_with_backup(file_, log_);
  if (!loaded) return loaded.status();
  std::map<std::string, TopicConfig> table;
  if (loaded->has_value()) {
    const nlohmann::json& root = **loaded;
    try {
      const nlohmann::json& entries = root.at("topicConfigTable");
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        TopicConfig c;
        c.topic_name = it.key();
        c.read_queue_nums = it.value().at("readQueueNums").get<int32_t>();
        c.write_queue_nums = it.value().at("writeQueueNums").get<int32_t>();
        c.perm = it.value().at("perm").get<int32_t>();
        if (Status st = validate_topic_config(c); !st)
          return Status::system(file_.string() + ": topic '" + it.key() + "': " + st.message());
        table.emplace(c.topic_name, c);
      }
    } catch (const nlohmann::json::exception& e) {
      return Status::system(file_.string() + " has an unexpected layout (" + e.what() +
                            "); expected {\"topicConfigTable\": {name: {readQueueNums, writeQueueNums, perm}}}");
    }
  }
  std::lock_guard lock(mu_);
  topics_ = std::move(table);
  return Status::ok();
}

void TopicConfigManager::set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

std::optional<TopicConfig> TopicConfigManager::find(const std::string& topic) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

Status TopicConfigManager::create_or_update(const TopicConfig& config) {
  if (Status st = validate_topic_config(config); !st) return st;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = topics_.try_emplace(config.topic_name, config);
    if (!inserted) {
      if (it->second == config) return Status::ok();
      it->second = config;
    }
    ++version_;
  }
  log_.info("topic '{}' set: readQueueNums={} writeQueueNums={} perm={}", config.topic_name,
            config.read_queue_nums, config.write_queue_nums, config.perm);
  changed();
  return Status::ok();
}

TopicConfig TopicConfigManager::create_if_absent(const std::string& topic, int32_t queue_nums) {
  TopicConfig config;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) return it->second;
    config.topic_name = topic;
    config.read_queue_nums = queue_nums;
    config.write_queue_nums = queue_nums;
    config.perm = kPermRead | kPermWrite;
    topics_.emplace(topic, config);
    ++version_;
  }
  log_.info("topic '{}' auto-created with {} queues", topic, queue_nums);
  changed();
  return config;
}

bool TopicConfigManager::remove(const std::string& topic) {
  {
    std::lock_guard lock(mu_);
    if (topics_.erase(topic) == 0) return false;
    ++version_;
  }
  log_.info("topic '{}' deleted", topic);
  changed();
  return true;
}

std::vector<TopicConfig> TopicConfigManager::all() const {
  std::lock_guard lock(mu_);
  std::vector<TopicConfig> out;
  out.reserve(topics_.size());
  for (const auto& [name, c] : topics_) out.push_back(c);
  return out;
}

size_t TopicConfigManager::size() const {
  std::lock_guard lock(mu_);
  return topics_.size();
}

Status TopicConfigManager::persist() {
  std::lock_guard persist_lock(persist_mu_);
  nlohmann::json table = nlohmann::json::object();
  uint64_t version = 0;
  std::error_code ec;
  const bool file_exists = std::filesystem::exists(file_, ec);
  {
    std::lock_guard lock(mu_);
    version = version_;
    if (version == persisted_version_ && file_exists) return Status::ok();
    for (const auto& [name, c] : topics_)
      table[name] = {{"topicName", name},
                     {"readQueueNums", c.read_queue_nums},
                     {"writeQueueNums", c.write_queue_nums},
                     {"perm", c.perm}};
  }
  nlohmann::json root = {{"topicConfigTable", std::move(table)}, {"dataVersion", version}};
  // `replace`: never throws on bytes that are not UTF-8 (names are validated ASCII anyway).
  const std::string text = root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (Status st = write_file_atomically(file_, text); !st) return st;
  persisted_version_ = version;
  return Status::ok();
}

void TopicConfigManager::changed() {
  if (on_change_) on_change_();
}

}  // namespace mq::kernel
