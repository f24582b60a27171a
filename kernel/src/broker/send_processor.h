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
#include "mq/encoded_batch.h"
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
  // A send of encoded messages without before-store hooks: the messages go to the store as
  // views of the request's bytes, never built as Message objects.
  // `parsed` views request.encoded_messages.
  void process_encoded(const SendRequest& request, const std::vector<batch::EncodedMessage>& parsed,
                       Reply<SendResponse> reply);
  // Refuses what needs a plugin that is not loaded (transaction types; `wants_delay`: some
  // message asks for delayed delivery).
  Status check_plugins(const SendRequest& request, bool wants_delay) const;
  // Refuses an empty body or one that with its encoded properties exceeds maxMessageSize;
  // names message `index` of `count`.
  Status check_size(size_t body_size, int64_t properties_bytes, size_t index, size_t count) const;
  // The queue a send goes to: the topic (auto-created when allowed) must be writable.
  Result<QueueId> pick_queue(const SendRequest& request);
  // Moves the put's status into `response`; false when not every one of `count` messages
  // was stored (the response then says why).
  static bool stored_all(PutViewsResult& put, size_t count, SendResponse& response);
  // response.batch from the positions of a stored batch (one queue, consecutive offsets).
  static Status fill_batch_result(const std::vector<PutPosition>& positions, HostAddress store_host,
                                  std::vector<std::pair<int32_t, std::string>> assigned, SendResponse& response);
  static StoredRange range_of(const std::vector<PutPosition>& positions);
  // Replies to a put of `count` encoded messages in batch form (through the after-store hooks).
  static void reply_batch(const std::shared_ptr<const AfterStoreHooks>& hooks, PutViewsResult put, size_t count,
                          QueueId queue_id, HostAddress store_host,
                          std::vector<std::pair<int32_t, std::string>> assigned, Reply<SendResponse> reply);
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
