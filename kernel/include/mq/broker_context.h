// BrokerContext: the kernel state plugins may read or extend (topics, subscription groups,
// producers online). Provided by the kernel of mqbroker, registered before plugin init();
// plugins do not list it in requires_. Calls made before the broker core started or after
// it stopped answer SERVICE_NOT_AVAILABLE / nullopt, so plugin threads must tolerate them.
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <optional>
#include <string>
#include <string_view>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq {

// Threading: every method is safe from any thread and does not block on disk or network.
class BOOST_SYMBOL_VISIBLE BrokerContext {
 public:
  static constexpr std::string_view kServiceName = "BrokerContext";
  virtual ~BrokerContext() = default;

  virtual std::optional<TopicConfig> find_topic(const std::string& topic) = 0;
  // Creates `wanted` if no topic of that name exists (persisted and announced to the name
  // servers like any topic) and returns the config in effect; an existing topic is kept.
  virtual Result<TopicConfig> ensure_topic(const TopicConfig& wanted) = 0;
  // The group's config; a group not configured yet gets the defaults (retry_max_times 16).
  virtual std::optional<SubscriptionGroupConfig> find_subscription_group(const std::string& group) = 0;
  // True while at least one producer of `group` has a live heartbeat.
  virtual bool producer_online(const std::string& group) = 0;

  // ---- replication metadata (issue 8, ha-sync); defaults: not supported ----
  // A JSON snapshot of the broker's metadata a slave mirrors:
  // {"topicConfigTable": {...}, "subscriptionGroupTable": {...}, "offsetTable": {...}}
  // in the layouts of topics.json, subscriptionGroup.json and consumerOffset.json.
  virtual Result<std::string> export_metadata() {
    return Status(Code::kRequestCodeNotSupported, "this broker context cannot export metadata");
  }
  // Replaces topics, subscription groups and consumer offsets with those of `json` (as
  // export_metadata writes it) and persists them. Used on a slave only.
  virtual Status import_metadata(std::string_view json) {
    (void)json;
    return Status(Code::kRequestCodeNotSupported, "this broker context cannot import metadata");
  }
};

}  // namespace mq
