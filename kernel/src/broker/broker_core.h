// BrokerCore: the kernel's implementation of BrokerApi (send, pull with long polling,
// consumer offsets, topics, client registry) on top of a MessageStore, plus the
// registration loop that announces this broker to every name server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "broker/plugin_services.h"
#include "mq/broker_api.h"
#include "mq/broker_context.h"
#include "mq/host.h"
#include "mq/message_store.h"
#include "mq/transport.h"

namespace mq::kernel {

// Global broker keys (RocketMQ names) the core uses; parsed by the kernel's config.
struct BrokerSettings {
  BrokerIdentity identity;                           // cluster, name, id, storePathRootDir, address
  std::vector<std::string> namesrv_addrs;            // namesrvAddr, split on ';'
  int32_t default_topic_queue_nums = 4;              // defaultTopicQueueNums
  bool auto_create_topic_enable = true;              // autoCreateTopicEnable
  bool auto_create_subscription_group = true;        // autoCreateSubscriptionGroup
  int64_t max_message_size = 4 << 20;                // maxMessageSize
  bool long_polling_enable = true;                   // longPollingEnable
  int64_t short_polling_time_ms = 1000;              // shortPollingTimeMills
  int64_t register_name_server_period_ms = 30000;    // registerNameServerPeriod
  int64_t flush_consumer_offset_interval_ms = 5000;  // flushConsumerOffsetInterval
  int64_t client_channel_expired_ms = 120000;        // heartbeat expiry of clients
  int64_t rebalance_lock_max_live_time_ms = 60000;   // rebalanceLockMaxLiveTime: queue lock expiry
  int32_t min_client_version = 1;                    // heartbeats with 0 < client_version < this: VERSION_NOT_SUPPORTED
  // A pull asking for more is served with these caps (not refused).
  int32_t pull_max_msg_nums = 1024;  // pullMaxMsgNums
  int32_t pull_max_bytes = 8 << 20;  // pullMaxBytes
  // A pull suggests the group's which_broker_when_consume_slowly (a slave) when the commit-log
  // bytes after its last message exceed this % of the memory (accessMessageInMemoryMaxRatio).
  int32_t access_message_in_memory_max_ratio = 40;
  int64_t total_memory_bytes = 0;  // 0: the machine's physical memory (tests set a size)
};

// Lifecycle: construct -> start() -> [serve] -> stop() -> destroy. Threading: BrokerApi
// methods are safe from any thread once started. Owns its timers/threads; stop() joins
// them, completes every held pull (PULL_NOT_FOUND) and persists consumer offsets.
class BrokerCore final : public BrokerApi, public BrokerContext {
 public:
  // `plugins`: hooks and plugin services found after every plugin's init(); none in tests
  // that drive the core alone.
  BrokerCore(BrokerSettings settings, std::shared_ptr<MessageStore> store, std::shared_ptr<spdlog::logger> log,
             BrokerPlugins plugins = {});
  ~BrokerCore() override;

  // Loads config/topics.json and config/consumerOffset.json under storePathRootDir,
  // registers the store arrival listener, starts the timers. Errors name the file.
  Status start();
  void stop();

  // Starts announcing this broker to every name server in `namesrv_addrs` (every register
  // period and at once after a topic change). `transport` must outlive stop().
  void start_registration(Transport& transport, std::vector<std::string> namesrv_addrs);

  // What this broker announces (identity, address, topics).
  BrokerRegistration registration() const;

  // BrokerApi
  void send(SendRequest request, Reply<SendResponse> reply) override;
  void pull(PullRequest request, Reply<PullResponse> reply) override;
  Result<int64_t> query_consumer_offset(const std::string& group, const std::string& topic, QueueId queue_id) override;
  Status update_consumer_offset(const std::string& group, const std::string& topic, QueueId queue_id,
                                int64_t offset) override;
  Result<QueueOffset> min_offset(const std::string& topic, QueueId queue_id) override;
  Result<QueueOffset> max_offset(const std::string& topic, QueueId queue_id) override;
  Result<QueueOffset> search_offset_by_timestamp(const std::string& topic, QueueId queue_id,
                                                 int64_t timestamp_ms) override;
  Status heartbeat(const HeartbeatRequest& request) override;
  Status unregister_client(const std::string& client_id) override;
  Result<std::vector<std::string>> consumer_ids(const std::string& group) override;
  Status create_topic(const TopicConfig& config) override;
  std::vector<TopicConfig> topics() override;
  Result<std::vector<QueueConsumeStat>> consume_stats(const std::string& group, const std::string& topic) override;
  std::map<std::string, std::string> runtime_info() override;
  Result<std::vector<QueueRef>> lock_batch(const std::string& group, const std::string& client_id,
                                           const std::vector<QueueRef>& queues) override;
  Status unlock_batch(const std::string& group, const std::string& client_id,
                      const std::vector<QueueRef>& queues) override;
  void wait_consumer_group_change(const std::string& group, const std::string& client_id, int64_t known_version,
                                  int64_t timeout_ms, Reply<ConsumerGroupChange> reply) override;
  Status delete_topic(const std::string& topic) override;
  Status update_subscription_group(const SubscriptionGroupConfig& config) override;
  std::vector<SubscriptionGroupConfig> subscription_groups() override;
  Result<StoredMessage> view_message(CommitLogOffset offset) override;
  Result<std::vector<StoredMessage>> query_message_by_key(const std::string& topic, const std::string& key,
                                                          int32_t max_count, int64_t begin_ms, int64_t end_ms) override;
  Result<std::map<QueueId, int64_t>> reset_offset_by_timestamp(const std::string& group, const std::string& topic,
                                                               int64_t timestamp_ms, bool force) override;
  Result<ConsumerConnection> consumer_connection(const std::string& group) override;
  Result<std::vector<ConnectionInfo>> producer_connection(const std::string& group) override;
  void consumer_send_back(ConsumerSendBack request, Reply<Status> reply) override;
  void cancel_scheduled(std::string topic, std::string msg_id, Reply<Status> reply) override;
  void end_transaction(EndTransaction request, Reply<Status> reply) override;
  void poll_transaction_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) override;

  // BrokerContext (served to plugins through BrokerContextProxy)
  std::optional<TopicConfig> find_topic(const std::string& topic) override;
  Result<TopicConfig> ensure_topic(const TopicConfig& wanted) override;
  std::optional<SubscriptionGroupConfig> find_subscription_group(const std::string& group) override;
  bool producer_online(const std::string& group) override;
  Result<std::string> export_metadata() override;
  Status import_metadata(std::string_view json) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::kernel
