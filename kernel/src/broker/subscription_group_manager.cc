// SubscriptionGroupManager: group table, validation and JSON persistence.
#include "broker/subscription_group_manager.h"

#include "broker/group_name.h"
#include "broker/json_file.h"
#include "broker/topic_config_manager.h"

namespace mq::kernel {

Status validate_subscription_group(const SubscriptionGroupConfig& c) {
  if (std::string why = validate_group_name(c.group_name); !why.empty()) return Status::invalid(why);
  auto bad = [&](const char* key, int64_t v, const char* expected) {
    return Status::invalid(std::string(key) + " of subscription group '" + c.group_name + "' is " +
                           std::to_string(v) + "; it must be " + expected);
  };
  if (c.retry_queue_nums < 0 || c.retry_queue_nums > kMaxQueueNums)
    return bad("retryQueueNums", c.retry_queue_nums, "between 0 and 1024");
  if (c.retry_max_times < -1) return bad("retryMaxTimes", c.retry_max_times, ">= -1");
  if (c.broker_id < 0) return bad("brokerId", c.broker_id, ">= 0");
  if (c.which_broker_when_consume_slowly < 0)
    return bad("whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly, ">= 0");
  return Status::ok();
}

SubscriptionGroupManager::SubscriptionGroupManager(std::filesystem::path file, spdlog::logger& log)
    : file_(std::move(file)), log_(log) {}

Status SubscriptionGroupManager::load() {
  auto loaded = load_json_with_backup(file_, log_);
  if (!loaded) return loaded.status();
  std::map<std::string, SubscriptionGroupConfig> table;
  if (loaded->has_value()) {
    try {
      const nlohmann::json& entries = (**loaded).at("subscriptionGroupTable");
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        const nlohmann::json& j = it.value();
        SubscriptionGroupConfig c;
        c.group_name = it.key();
        c.consume_enable = j.value("consumeEnable", c.consume_enable);
        c.consume_broadcast_enable = j.value("consumeBroadcastEnable", c.consume_broadcast_enable);
        c.retry_queue_nums = j.value("retryQueueNums", c.retry_queue_nums);
        c.retry_max_times = j.value("retryMaxTimes", c.retry_max_times);
        c.broker_id = j.value("brokerId", c.broker_id);
        c.which_broker_when_consume_slowly =
            j.value("whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly);
        c.consume_message_orderly = j.value("consumeMessageOrderly", c.consume_message_orderly);
        if (Status st = validate_subscription_group(c); !st)
          return Status::system(file_.string() + ": subscription group '" + it.key() + "': " + st.message());
        table.emplace(c.group_name, c);
      }
    } catch (const nlohmann::json::exception& e) {
      return Status::system(file_.string() + " has an unexpected layout (" + e.what() +
                            "); expected {\"subscriptionGroupTable\": {name: {consumeEnable, retryQueueNums, ...}}}");
    }
  }
  std::lock_guard lock(mu_);
  groups_ = std::move(table);
  return Status::ok();
}

void SubscriptionGroupManager::set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

std::optional<SubscriptionGroupConfig> SubscriptionGroupManager::find(const std::string& group) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  return it->second;
}

Status SubscriptionGroupManager::create_or_update(const SubscriptionGroupConfig& config) {
  if (Status st = validate_subscription_group(config); !st) return st;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = groups_.try_emplace(config.group_name, config);
    if (!inserted) {
      if (it->second == config) return Status::ok();
      it->second = config;
    }
    ++version_;
  }
  log_.info("subscription group '{}' set: consumeEnable={} consumeBroadcastEnable={} retryQueueNums={} "
            "retryMaxTimes={} consumeMessageOrderly={}",
            config.group_name, config.consume_enable, config.consume_broadcast_enable, config.retry_queue_nums,
            config.retry_max_times, config.consume_message_orderly);
  changed();
  return Status::ok();
}

SubscriptionGroupConfig SubscriptionGroupManager::create_if_absent(const std::string& group) {
  SubscriptionGroupConfig config;
  {
    std::lock_guard lock(mu_);
    auto it = groups_.find(group);
    if (it != groups_.end()) return it->second;
    config.group_name = group;
    groups_.emplace(group, config);
    ++version_;
  }
  log_.info("subscription group '{}' auto-created", group);
  changed();
  return config;
}

std::vector<SubscriptionGroupConfig> SubscriptionGroupManager::all() const {
  std::lock_guard lock(mu_);
  std::vector<SubscriptionGroupConfig> out;
  out.reserve(groups_.size());
  for (const auto& [name, c] : groups_) out.push_back(c);
  return out;
}

size_t SubscriptionGroupManager::size() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

Status SubscriptionGroupManager::persist() {
  std::lock_guard persist_lock(persist_mu_);
  nlohmann::json table = nlohmann::json::object();
  uint64_t version = 0;
  std::error_code ec;
  const bool file_exists = std::filesystem::exists(file_, ec);
  {
    std::lock_guard lock(mu_);
    version = version_;
    if (version == persisted_version_ && (file_exists || groups_.empty())) return Status::ok();
    for (const auto& [name, c] : groups_)
      table[name] = {{"groupName", name},
                     {"consumeEnable", c.consume_enable},
                     {"consumeBroadcastEnable", c.consume_broadcast_enable},
                     {"retryQueueNums", c.retry_queue_nums},
                     {"retryMaxTimes", c.retry_max_times},
                     {"brokerId", c.broker_id},
                     {"whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly},
                     {"consumeMessageOrderly", c.consume_message_orderly}};
  }
  nlohmann::json root = {{"subscriptionGroupTable", std::move(table)}, {"dataVersion", version}};
  const std::string text = root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (Status st = write_file_atomically(file_, text); !st) return st;
  persisted_version_ = version;
  return Status::ok();
}

void SubscriptionGroupManager::changed() {
  if (on_change_) on_change_();
}

}  // namespace mq::kernel
