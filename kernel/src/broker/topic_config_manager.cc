// TopicConfigManager: topic validation and the JSON form of a topic entry.
#include "broker/topic_config_manager.h"

#include <fmt/format.h>

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

TopicConfig TopicTableTraits::from_json(const std::string& name, const nlohmann::json& entry) {
  TopicConfig c;
  c.topic_name = name;
  c.read_queue_nums = entry.at("readQueueNums").get<int32_t>();
  c.write_queue_nums = entry.at("writeQueueNums").get<int32_t>();
  c.perm = entry.at("perm").get<int32_t>();
  return c;
}

nlohmann::json TopicTableTraits::to_json(const std::string& name, const TopicConfig& c) {
  return {{"topicName", name},
          {"readQueueNums", c.read_queue_nums},
          {"writeQueueNums", c.write_queue_nums},
          {"perm", c.perm}};
}

std::string TopicTableTraits::describe(const TopicConfig& c) {
  return fmt::format("readQueueNums={} writeQueueNums={} perm={}", c.read_queue_nums, c.write_queue_nums, c.perm);
}

std::string TopicTableTraits::auto_created_detail(const TopicConfig& c) {
  return fmt::format(" with {} queues", c.read_queue_nums);
}

TopicConfig TopicConfigManager::create_if_absent(const std::string& topic, int32_t queue_nums) {
  return table_.create_if_absent(topic, [&] {
    TopicConfig config;
    config.topic_name = topic;
    config.read_queue_nums = queue_nums;
    config.write_queue_nums = queue_nums;
    config.perm = kPermRead | kPermWrite;
    return config;
  });
}

Result<TopicConfig> TopicConfigManager::ensure(const TopicConfig& wanted) {
  if (auto found = find(wanted.topic_name)) return *found;
  if (Status st = create_or_update(wanted); !st) return st;
  if (auto found = find(wanted.topic_name)) return *found;
  return Status::system("topic '" + wanted.topic_name + "' was removed while being created; retry");
}

}  // namespace mq::kernel
