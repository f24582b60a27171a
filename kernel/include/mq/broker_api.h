// The broker and name-server request interfaces, in kernel types. The kernel implements
// them; a transport plugin (transport-thrift) decodes wire requests into these calls and
// encodes the replies. Every reply carries a Status: code + readable remark.
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mq/message.h"
#include "mq/status.h"
#include "mq/types.h"

namespace mq {

// Completion for an asynchronous request. Called exactly once, from any thread; must not
// block (it only serializes the reply and hands it to the connection).
template <typename T>
using Reply = std::function<void(T)>;

// Topic permissions, RocketMQ PermName bits.
inline constexpr int32_t kPermRead = 1 << 2;
inline constexpr int32_t kPermWrite = 1 << 1;
inline constexpr int32_t kPermInherit = 1 << 0;

struct TopicConfig {
  std::string topic_name;
  int32_t read_queue_nums = 4;
  int32_t write_queue_nums = 4;
  int32_t perm = kPermRead | kPermWrite;
  friend bool operator==(const TopicConfig&, const TopicConfig&) = default;
};

// ---- send ----
struct SendRequest {
  std::string producer_group;
  std::string topic;
  QueueId queue_id = -1;          // -1: the broker picks one (round robin)
  std::vector<Message> messages;  // one message, or a batch stored consecutively in one queue
  int64_t born_timestamp_ms = 0;
  HostAddress born_host;
  int32_t sys_flag = 0;
  int32_t reconsume_times = 0;
  // Instead of `messages`: the messages encoded back to back (mq/encoded_batch.h); the
  // response then carries `batch` instead of `results`.
  std::string encoded_messages;
};
// The results of a send of encoded messages, for message i of the request.
struct SendBatchResult {
  QueueOffset first_queue_offset{0};                // message i: first_queue_offset + i
  std::vector<CommitLogOffset> commit_log_offsets;  // offset message id: make_offset_msg_id(store_host, [i])
  HostAddress store_host;
  std::vector<std::pair<int32_t, std::string>> assigned_msg_ids;  // (i, UNIQ_KEY) for those sent without one
};
struct SendResultItem {
  std::string msg_id;         // the client's UNIQ_KEY (empty if the client set none)
  std::string offset_msg_id;  // broker id: store host + commit-log offset
  QueueOffset queue_offset{0};
};
struct SendResponse {
  Status status;
  QueueId queue_id = 0;
  std::vector<SendResultItem> results;   // one per message, in order, when status is OK
  std::optional<SendBatchResult> batch;  // instead of results, for a request with encoded_messages
};

// ---- pull ----
struct PullRequest {
  std::string consumer_group;
  std::string topic;
  QueueId queue_id = 0;
  QueueOffset queue_offset{0};
  int32_t max_msgs = 32;
  int32_t max_bytes = 256 * 1024;
  int64_t suspend_timeout_ms = 15000;   // 0: answer at once (no long polling)
  int64_t commit_offset = -1;           // >= 0: also commit this consumer offset
  std::string subscription = "*";       // tag expression "TagA || TagB" or "*", or SQL92
  std::string expression_type = "TAG";  // TAG | SQL92
  // Answer with `records` instead of `messages` when the store can (MessageStore::get_records).
  bool want_records = false;
};
struct PullResponse {
  Status status;  // SUCCESS, PULL_NOT_FOUND, PULL_RETRY_IMMEDIATELY, PULL_OFFSET_MOVED, ...
  QueueOffset next_begin_offset{0};
  QueueOffset min_offset{0};
  QueueOffset max_offset{0};
  std::vector<StoredMessage> messages;
  // Or, when the request wanted records and the store had them: `record_count` messages as
  // their records (mq/message_record.h), back to back; `messages` is then empty.
  std::string records;
  int32_t record_count = 0;
  // Where the consumer should pull this queue next (RocketMQ suggestWhichBrokerId): 0 the
  // master; the group's which_broker_when_consume_slowly when the bytes of the commit log
  // after this batch exceed accessMessageInMemoryMaxRatio % of the machine's memory.
  int64_t suggest_which_broker_id = 0;
};

// ---- clients ----
enum class ConsumeType { kPull, kPush };
enum class MessageModel { kClustering, kBroadcasting };
enum class ConsumeFromWhere { kLastOffset, kFirstOffset, kTimestamp };

struct SubscriptionData {
  std::string topic;
  std::string expression_type = "TAG";
  std::string expression = "*";
  friend bool operator==(const SubscriptionData&, const SubscriptionData&) = default;
};
struct ConsumerData {
  std::string group;
  ConsumeType consume_type = ConsumeType::kPush;
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  std::vector<SubscriptionData> subscriptions;
};
struct HeartbeatRequest {
  std::string client_id;
  std::string client_addr;  // "ip:port" of the connection, filled by the transport
  int32_t client_version = 0;
  std::vector<std::string> producer_groups;
  std::vector<ConsumerData> consumers;
};

struct QueueConsumeStat {
  std::string topic;
  std::string broker_name;
  QueueId queue_id = 0;
  QueueOffset broker_offset{0};  // max offset of the queue
  int64_t consumer_offset = -1;  // committed offset, -1 if none
};

struct QueueRef {
  std::string topic;
  QueueId queue_id = 0;
  friend auto operator<=>(const QueueRef&, const QueueRef&) = default;
};

// Per-group counter bumped when a member joins or leaves, or the group's offsets are reset.
struct ConsumerGroupChange {
  Status status;
  int64_t version = 0;
  std::vector<std::string> consumer_ids;         // sorted
  std::vector<std::string> offset_reset_topics;  // reset after the caller's known version
};

// RocketMQ SubscriptionGroupConfig (the fields that matter so far).
struct SubscriptionGroupConfig {
  std::string group_name;
  bool consume_enable = true;
  bool consume_broadcast_enable = true;
  int32_t retry_queue_nums = 1;
  int32_t retry_max_times = 16;
  int64_t broker_id = 0;
  int64_t which_broker_when_consume_slowly = 1;
  bool consume_message_orderly = false;
  friend bool operator==(const SubscriptionGroupConfig&, const SubscriptionGroupConfig&) = default;
};

struct ConnectionInfo {
  std::string client_id;
  std::string client_addr;
  std::string language = "CPP";
  int32_t version = 0;
  int64_t last_heartbeat_ms = 0;
};

struct ConsumerConnection {
  std::vector<ConnectionInfo> connections;
  ConsumeType consume_type = ConsumeType::kPush;
  MessageModel message_model = MessageModel::kClustering;
  ConsumeFromWhere consume_from_where = ConsumeFromWhere::kLastOffset;
  std::vector<SubscriptionData> subscriptions;  // union over members
  std::vector<std::string> inconsistencies;     // members whose subscriptions differ, readable
};

// ---- retry (served by the schedule plugin's ScheduleService) ----
// RocketMQ CONSUMER_SEND_MSG_BACK: a consumer failed the message stored at `offset`.
struct ConsumerSendBack {
  std::string group;
  CommitLogOffset offset{0};         // the failed message's record (its offsetMsgId)
  std::string origin_msg_id;         // the client id (UNIQ_KEY) the listener saw
  std::string origin_topic;          // the topic the listener saw (not %RETRY%<group>)
  int32_t delay_level = 0;           // 0: the broker picks 3 + reconsume times; -1: straight to the DLQ
  int32_t max_reconsume_times = -1;  // -1: the group's retry_max_times
};

// ---- transactions (served by the transaction plugin's TransactionService) ----
// RocketMQ END_TRANSACTION.
struct EndTransaction {
  std::string producer_group;
  CommitLogOffset half_offset{0};    // commit-log offset of the half message
  QueueOffset half_queue_offset{0};  // its queue offset (RocketMQ tranStateTableOffset)
  std::string msg_id;                // the client id (UNIQ_KEY) of the message
  std::string transaction_id;
  int32_t commit_or_rollback = kTransactionNotType;  // COMMIT, ROLLBACK or NOT_TYPE (unknown)
  bool from_transaction_check = false;
};

// A long poll by a transactional producer for the check-backs due to its group.
struct TransactionCheckPoll {
  std::string producer_group;
  std::string client_id;
  int32_t max_checks = 32;
  int64_t timeout_ms = 15000;
};
struct TransactionCheck {
  StoredMessage message;  // the half as the producer sent it (real topic); offsets are the half's
  std::string transaction_id;
};
struct TransactionChecks {
  Status status;
  std::vector<TransactionCheck> checks;
};

// Implemented by the kernel. Threading: every method may be called concurrently from
// transport threads; none blocks on disk or network (long pulls complete later).
class BOOST_SYMBOL_VISIBLE BrokerApi {
 public:
  static constexpr std::string_view kServiceName = "BrokerApi";
  virtual ~BrokerApi() = default;

  virtual void send(SendRequest request, Reply<SendResponse> reply) = 0;
  // Holds the reply up to suspend_timeout_ms when no message is available yet.
  virtual void pull(PullRequest request, Reply<PullResponse> reply) = 0;

  virtual Result<int64_t> query_consumer_offset(const std::string& group, const std::string& topic,
                                                QueueId queue_id) = 0;  // QUERY_NOT_FOUND if none
  virtual Status update_consumer_offset(const std::string& group, const std::string& topic, QueueId queue_id,
                                        int64_t offset) = 0;
  virtual Result<QueueOffset> min_offset(const std::string& topic, QueueId queue_id) = 0;
  virtual Result<QueueOffset> max_offset(const std::string& topic, QueueId queue_id) = 0;
  virtual Result<QueueOffset> search_offset_by_timestamp(const std::string& topic, QueueId queue_id,
                                                         int64_t timestamp_ms) = 0;

  virtual Status heartbeat(const HeartbeatRequest& request) = 0;
  virtual Status unregister_client(const std::string& client_id) = 0;
  virtual Result<std::vector<std::string>> consumer_ids(const std::string& group) = 0;

  virtual Status create_topic(const TopicConfig& config) = 0;
  virtual std::vector<TopicConfig> topics() = 0;
  // Per-queue progress of a group (for mqadmin consumerProgress); empty topic: all topics
  // the group has offsets for.
  virtual Result<std::vector<QueueConsumeStat>> consume_stats(const std::string& group, const std::string& topic) = 0;
  virtual std::map<std::string, std::string> runtime_info() = 0;

  // ---- client features ----
  // Locks queues for an orderly consumer; returns the subset now held by client_id. A lock
  // expires 60 s after its last renewal (rocketmq.broker.rebalance.lockMaxLiveTime).
  virtual Result<std::vector<QueueRef>> lock_batch(const std::string& group, const std::string& client_id,
                                                   const std::vector<QueueRef>& queues) = 0;
  virtual Status unlock_batch(const std::string& group, const std::string& client_id,
                              const std::vector<QueueRef>& queues) = 0;
  // Long poll: replies at once if the group's version != known_version, else on the next
  // change or after timeout_ms (with the unchanged version). Holds no thread while waiting.
  virtual void wait_consumer_group_change(const std::string& group, const std::string& client_id, int64_t known_version,
                                          int64_t timeout_ms, Reply<ConsumerGroupChange> reply) = 0;
  virtual Status delete_topic(const std::string& topic) = 0;
  virtual Status update_subscription_group(const SubscriptionGroupConfig& config) = 0;
  virtual std::vector<SubscriptionGroupConfig> subscription_groups() = 0;
  // The message whose record starts at `offset` (QUERY_NOT_FOUND if none does).
  virtual Result<StoredMessage> view_message(CommitLogOffset offset) = 0;
  // Messages of `topic` with KEYS entry or UNIQ_KEY == key, stored in [begin_ms, end_ms]
  // (end_ms < 0: no bound), at most max_count, newest first.
  virtual Result<std::vector<StoredMessage>> query_message_by_key(const std::string& topic, const std::string& key,
                                                                  int32_t max_count, int64_t begin_ms,
                                                                  int64_t end_ms) = 0;
  // Sets the group's offset of every queue of `topic` to the first message stored at or after
  // timestamp_ms (timestamp_ms < 0: the max offset); with force=false never moves backwards.
  // Bumps the group's version with `topic` in offset_reset_topics. Returns queue -> offset.
  virtual Result<std::map<QueueId, int64_t>> reset_offset_by_timestamp(const std::string& group,
                                                                       const std::string& topic, int64_t timestamp_ms,
                                                                       bool force) = 0;
  virtual Result<ConsumerConnection> consumer_connection(const std::string& group) = 0;  // CONSUMER_NOT_ONLINE
  virtual Result<std::vector<ConnectionInfo>> producer_connection(const std::string& group) = 0;

  // ---- served by plugins; "<plugin> plugin not loaded" (REQUEST_CODE_NOT_SUPPORTED) without ----
  virtual void consumer_send_back(ConsumerSendBack request, Reply<Status> reply) = 0;             // schedule
  virtual void cancel_scheduled(std::string topic, std::string msg_id, Reply<Status> reply) = 0;  // schedule
  virtual void end_transaction(EndTransaction request, Reply<Status> reply) = 0;                  // transaction
  // Replies at once when checks are due, else on the next due check or after timeout_ms.
  virtual void poll_transaction_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) = 0;
};

// ---- name server ----
struct BrokerRegistration {
  std::string cluster_name;
  std::string broker_name;
  int64_t broker_id = 0;
  std::string broker_addr;  // "host:port" clients connect to
  std::vector<TopicConfig> topics;
  int64_t heartbeat_timeout_ms = 120000;
  std::string role;  // ASYNC_MASTER | SYNC_MASTER | SLAVE; empty: derived from broker_id
};
struct QueueData {
  std::string broker_name;
  int32_t read_queue_nums = 0;
  int32_t write_queue_nums = 0;
  int32_t perm = 0;
  friend bool operator==(const QueueData&, const QueueData&) = default;
};
struct BrokerData {
  std::string cluster;
  std::string broker_name;
  std::map<int64_t, std::string> broker_addrs;  // broker id -> address; 0 is the master
  std::map<int64_t, std::string> broker_roles;  // broker id -> role it registered (cluster info only)
  friend bool operator==(const BrokerData&, const BrokerData&) = default;
};
struct TopicRoute {
  std::vector<QueueData> queues;
  std::vector<BrokerData> brokers;
};
struct ClusterInfo {
  std::map<std::string, BrokerData> brokers;                 // broker name -> data
  std::map<std::string, std::vector<std::string>> clusters;  // cluster -> broker names
};

// Implemented by the kernel's name-server core (standalone or embedded in a broker).
class BOOST_SYMBOL_VISIBLE NameServerApi {
 public:
  static constexpr std::string_view kServiceName = "NameServerApi";
  virtual ~NameServerApi() = default;
  virtual Status register_broker(const BrokerRegistration& registration) = 0;
  virtual Status unregister_broker(const std::string& cluster_name, const std::string& broker_name, int64_t broker_id,
                                   const std::string& broker_addr) = 0;
  virtual Result<TopicRoute> route(const std::string& topic) = 0;  // TOPIC_NOT_EXIST if unknown
  virtual ClusterInfo cluster_info() = 0;
  virtual std::vector<std::string> topics() = 0;
};

}  // namespace mq
