// SendProcessor: validates a send, resolves (or auto-creates) the topic, picks the queue,
// builds StoredMessages and replies from the store's completion.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include <spdlog/logger.h>

#include "broker/broker_core.h"
#include "broker/plugin_services.h"
#include "broker/topic_config_manager.h"
#include "mq/broker_api.h"
#include "mq/message_store.h"

namespace mq::kernel {

// Bytes a message's properties take in a commit-log record (name \x01 value \x02 ...).
int64_t properties_size(const Message& msg);

// Threading: process() is safe from any thread and never blocks; the reply runs on the
// store's completion thread (or the caller's for a rejected request).
class SendProcessor {
 public:
  SendProcessor(const BrokerSettings& settings, MessageStore& store, TopicConfigManager& topics,
                const BrokerPlugins& plugins, spdlog::logger& log);
  void process(SendRequest request, Reply<SendResponse> reply);

 private:
  Result<TopicConfig> resolve_topic(const std::string& topic);
  QueueId next_queue(const std::string& topic, int32_t write_queue_nums);
  // Refuses what needs a plugin that is not loaded (transaction types, delays).
  Status check_plugins(const SendRequest& request) const;
  // Runs the before-store hooks over every message; a batch must keep one topic and queue.
  Status run_before_store(std::vector<StoredMessage>& msgs) const;
  // Replies through the after-store hooks (in order) once the store answered OK. Static:
  // it may run after the processor is gone (a completion during shutdown).
  static void finish(const std::shared_ptr<const AfterStoreHooks>& hooks, StoredRange stored, SendResponse response,
                     Reply<SendResponse> reply);

  const BrokerSettings& settings_;
  MessageStore& store_;
  TopicConfigManager& topics_;
  const BrokerPlugins& plugins_;
  const std::shared_ptr<const AfterStoreHooks> after_store_;  // captured by put completions
  spdlog::logger& log_;
  std::mutex rr_mu_;
  std::unordered_map<std::string, uint32_t> round_robin_;  // guarded by rr_mu_
};

}  // namespace mq::kernel
