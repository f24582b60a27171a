// SubscriptionGroupManager: group validation and the JSON form of a group entry.
#include "broker/subscription_group_manager.h"

#include <fmt/format.h>

#include "broker/group_name.h"
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

SubscriptionGroupConfig SubscriptionGroupTableTraits::from_json(const std::string& name, const nlohmann::json& j) {
  SubscriptionGroupConfig c;
  c.group_name = name;
  c.consume_enable = j.value("consumeEnable", c.consume_enable);
  c.consume_broadcast_enable = j.value("consumeBroadcastEnable", c.consume_broadcast_enable);
  c.retry_queue_nums = j.value("retryQueueNums", c.retry_queue_nums);
  c.retry_max_times = j.value("retryMaxTimes", c.retry_max_times);
  c.broker_id = j.value("brokerId", c.broker_id);
  c.which_broker_when_consume_slowly = j.value("whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly);
  c.consume_message_orderly = j.value("consumeMessageOrderly", c.consume_message_orderly);
  return c;
}

nlohmann::json SubscriptionGroupTableTraits::to_json(const std::string& name, const SubscriptionGroupConfig& c) {
  return {{"groupName", name},
          {"consumeEnable", c.consume_enable},
          {"consumeBroadcastEnable", c.consume_broadcast_enable},
          {"retryQueueNums", c.retry_queue_nums},
          {"retryMaxTimes", c.retry_max_times},
          {"brokerId", c.broker_id},
          {"whichBrokerWhenConsumeSlowly", c.which_broker_when_consume_slowly},
          {"consumeMessageOrderly", c.consume_message_orderly}};
}

std::string SubscriptionGroupTableTraits::describe(const SubscriptionGroupConfig& c) {
  return fmt::format(
      "consumeEnable={} consumeBroadcastEnable={} retryQueueNums={} retryMaxTimes={} consumeMessageOrderly={}",
      c.consume_enable, c.consume_broadcast_enable, c.retry_queue_nums, c.retry_max_times,
      c.consume_message_orderly);
}

SubscriptionGroupConfig SubscriptionGroupManager::create_if_absent(const std::string& group) {
  return table_.create_if_absent(group, [&] {
    SubscriptionGroupConfig config;
    config.group_name = group;
    return config;
  });
}

}  // namespace mq::kernel
