// FakeBrokerApi / FakeNameServerApi: scriptable kernel APIs for the transport tests. Each
// method forwards to a std::function the test sets; an unset hook throws, which the
// transport must turn into a SYSTEM_ERROR reply.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "mq/broker_api.h"

namespace mq::transport_thrift::testing {

template <typename Fn>
decltype(auto) call_hook(const std::function<Fn>& hook, const char* name, auto&&... args) {
  if (!hook) throw std::runtime_error(std::string("fake: no hook for ") + name);
  return hook(std::forward<decltype(args)>(args)...);
}

// Threading: hooks must be set before the server sees traffic; they run on io threads.
class FakeBrokerApi final : public BrokerApi {
 public:
  std::function<void(SendRequest, Reply<SendResponse>)> on_send;
  std::function<void(PullRequest, Reply<PullResponse>)> on_pull;
  std::function<Result<int64_t>(const std::string&, const std::string&, QueueId)> on_query_consumer_offset;
  std::function<Status(const std::string&, const std::string&, QueueId, int64_t)> on_update_consumer_offset;
  std::function<Result<QueueOffset>(const std::string&, QueueId)> on_min_offset;
  std::function<Result<QueueOffset>(const std::string&, QueueId)> on_max_offset;
  std::function<Result<QueueOffset>(const std::string&, QueueId, int64_t)> on_search_offset;
  std::function<Status(const HeartbeatRequest&)> on_heartbeat;
  std::function<Status(const std::string&)> on_unregister_client;
  std::function<Result<std::vector<std::string>>(const std::string&)> on_consumer_ids;
  std::function<Status(const TopicConfig&)> on_create_topic;
  std::function<std::vector<TopicConfig>()> on_topics;
  std::function<Result<std::vector<QueueConsumeStat>>(const std::string&, const std::string&)> on_consume_stats;
  std::function<std::map<std::string, std::string>()> on_runtime_info;
  std::function<Result<std::vector<QueueRef>>(const std::string&, const std::string&, const std::vector<QueueRef>&)>
      on_lock_batch;
  std::function<Status(const std::string&, const std::string&, const std::vector<QueueRef>&)> on_unlock_batch;
  std::function<void(const std::string&, const std::string&, int64_t, int64_t, Reply<ConsumerGroupChange>)>
      on_wait_consumer_group_change;
  std::function<Status(const std::string&)> on_delete_topic;
  std::function<Status(const SubscriptionGroupConfig&)> on_update_subscription_group;
  std::function<std::vector<SubscriptionGroupConfig>()> on_subscription_groups;
  std::function<Result<StoredMessage>(CommitLogOffset)> on_view_message;
  std::function<Result<std::vector<StoredMessage>>(const std::string&, const std::string&, int32_t, int64_t, int64_t)>
      on_query_message_by_key;
  std::function<Result<std::map<QueueId, int64_t>>(const std::string&, const std::string&, int64_t, bool)>
      on_reset_offset_by_timestamp;
  std::function<Result<ConsumerConnection>(const std::string&)> on_consumer_connection;
  std::function<Result<std::vector<ConnectionInfo>>(const std::string&)> on_producer_connection;
  std::function<void(ConsumerSendBack, Reply<Status>)> on_consumer_send_back;
  std::function<void(std::string, std::string, Reply<Status>)> on_cancel_scheduled;
  std::function<void(EndTransaction, Reply<Status>)> on_end_transaction;
  std::function<void(TransactionCheckPoll, Reply<TransactionChecks>)> on_poll_transaction_checks;

  void send(SendRequest request, Reply<SendResponse> reply) override {
    call_hook(on_send, "send", std::move(request), std::move(reply));
  }
  void pull(PullRequest request, Reply<PullResponse> reply) override {
    call_hook(on_pull, "pull", std::move(request), std::move(reply));
  }
  Result<int64_t> query_consumer_offset(const std::string& group, const std::string& topic, QueueId queue) override {
    return call_hook(on_query_consumer_offset, "query_consumer_offset", group, topic, queue);
  }
  Status update_consumer_offset(const std::string& group, const std::string& topic, QueueId queue,
                                int64_t offset) override {
    return call_hook(on_update_consumer_offset, "update_consumer_offset", group, topic, queue, offset);
  }
  Result<QueueOffset> min_offset(const std::string& topic, QueueId queue) override {
    return call_hook(on_min_offset, "min_offset", topic, queue);
  }
  Result<QueueOffset> max_offset(const std::string& topic, QueueId queue) override {
    return call_hook(on_max_offset, "max_offset", topic, queue);
  }
  Result<QueueOffset> search_offset_by_timestamp(const std::string& topic, QueueId queue, int64_t ts) override {
    return call_hook(on_search_offset, "search_offset_by_timestamp", topic, queue, ts);
  }
  Status heartbeat(const HeartbeatRequest& request) override { return call_hook(on_heartbeat, "heartbeat", request); }
  Status unregister_client(const std::string& client_id) override {
    return call_hook(on_unregister_client, "unregister_client", client_id);
  }
  Result<std::vector<std::string>> consumer_ids(const std::string& group) override {
    return call_hook(on_consumer_ids, "consumer_ids", group);
  }
  Status create_topic(const TopicConfig& config) override { return call_hook(on_create_topic, "create_topic", config); }
  std::vector<TopicConfig> topics() override { return call_hook(on_topics, "topics"); }
  Result<std::vector<QueueConsumeStat>> consume_stats(const std::string& group, const std::string& topic) override {
    return call_hook(on_consume_stats, "consume_stats", group, topic);
  }
  std::map<std::string, std::string> runtime_info() override { return call_hook(on_runtime_info, "runtime_info"); }
  Result<std::vector<QueueRef>> lock_batch(const std::string& group, const std::string& client_id,
                                           const std::vector<QueueRef>& queues) override {
    return call_hook(on_lock_batch, "lock_batch", group, client_id, queues);
  }
  Status unlock_batch(const std::string& group, const std::string& client_id,
                      const std::vector<QueueRef>& queues) override {
    return call_hook(on_unlock_batch, "unlock_batch", group, client_id, queues);
  }
  void wait_consumer_group_change(const std::string& group, const std::string& client_id, int64_t known_version,
                                  int64_t timeout_ms, Reply<ConsumerGroupChange> reply) override {
    call_hook(on_wait_consumer_group_change, "wait_consumer_group_change", group, client_id, known_version, timeout_ms,
              std::move(reply));
  }
  Status delete_topic(const std::string& topic) override { return call_hook(on_delete_topic, "delete_topic", topic); }
  Status update_subscription_group(const SubscriptionGroupConfig& config) override {
    return call_hook(on_update_subscription_group, "update_subscription_group", config);
  }
  std::vector<SubscriptionGroupConfig> subscription_groups() override {
    return call_hook(on_subscription_groups, "subscription_groups");
  }
  Result<StoredMessage> view_message(CommitLogOffset offset) override {
    return call_hook(on_view_message, "view_message", offset);
  }
  Result<std::vector<StoredMessage>> query_message_by_key(const std::string& topic, const std::string& key,
                                                          int32_t max_count, int64_t begin_ms,
                                                          int64_t end_ms) override {
    return call_hook(on_query_message_by_key, "query_message_by_key", topic, key, max_count, begin_ms, end_ms);
  }
  Result<std::map<QueueId, int64_t>> reset_offset_by_timestamp(const std::string& group, const std::string& topic,
                                                                int64_t timestamp_ms, bool force) override {
    return call_hook(on_reset_offset_by_timestamp, "reset_offset_by_timestamp", group, topic, timestamp_ms, force);
  }
  Result<ConsumerConnection> consumer_connection(const std::string& group) override {
    return call_hook(on_consumer_connection, "consumer_connection", group);
  }
  Result<std::vector<ConnectionInfo>> producer_connection(const std::string& group) override {
    return call_hook(on_producer_connection, "producer_connection", group);
  }
  void consumer_send_back(ConsumerSendBack request, Reply<Status> reply) override {
    call_hook(on_consumer_send_back, "consumer_send_back", std::move(request), std::move(reply));
  }
  void cancel_scheduled(std::string topic, std::string msg_id, Reply<Status> reply) override {
    call_hook(on_cancel_scheduled, "cancel_scheduled", std::move(topic), std::move(msg_id), std::move(reply));
  }
  void end_transaction(EndTransaction request, Reply<Status> reply) override {
    call_hook(on_end_transaction, "end_transaction", std::move(request), std::move(reply));
  }
  void poll_transaction_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) override {
    call_hook(on_poll_transaction_checks, "poll_transaction_checks", std::move(request), std::move(reply));
  }
};

class FakeNameServerApi final : public NameServerApi {
 public:
  std::function<Status(const BrokerRegistration&)> on_register;
  std::function<Status(const std::string&, const std::string&, int64_t, const std::string&)> on_unregister;
  std::function<Result<TopicRoute>(const std::string&)> on_route;
  std::function<ClusterInfo()> on_cluster_info;
  std::function<std::vector<std::string>()> on_topics;

  Status register_broker(const BrokerRegistration& registration) override {
    return call_hook(on_register, "register_broker", registration);
  }
  Status unregister_broker(const std::string& cluster, const std::string& broker, int64_t id,
                           const std::string& addr) override {
    return call_hook(on_unregister, "unregister_broker", cluster, broker, id, addr);
  }
  Result<TopicRoute> route(const std::string& topic) override { return call_hook(on_route, "route", topic); }
  ClusterInfo cluster_info() override { return call_hook(on_cluster_info, "cluster_info"); }
  std::vector<std::string> topics() override { return call_hook(on_topics, "topics"); }
};

}  // namespace mq::transport_thrift::testing
