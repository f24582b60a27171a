// Wire <-> kernel type conversions (see convert.h).
#include "convert.h"

#include <charconv>

namespace mq::transport_thrift {
namespace {

template <typename Map>
std::map<std::string, std::string, std::less<>> to_kernel_properties(const Map& in) {
  return {in.begin(), in.end()};
}

template <typename Map>
std::map<std::string, std::string> to_wire_properties(const Map& in) {
  return {in.begin(), in.end()};
}

bool parse_uint(std::string_view text, uint32_t max, uint32_t* out) {
  if (text.empty()) return false;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  *out = value;
  return true;
}

ConsumeType consume_type_from(const std::string& text) {
  if (text == "PUSH") return ConsumeType::kPush;
  if (text == "PULL") return ConsumeType::kPull;
  throw ConversionError("consumeType '" + text + "' is not PUSH or PULL");
}

MessageModel message_model_from(const std::string& text) {
  if (text == "CLUSTERING") return MessageModel::kClustering;
  if (text == "BROADCASTING") return MessageModel::kBroadcasting;
  throw ConversionError("messageModel '" + text + "' is not CLUSTERING or BROADCASTING");
}

ConsumeFromWhere consume_from_where_from(const std::string& text) {
  if (text == "CONSUME_FROM_LAST_OFFSET") return ConsumeFromWhere::kLastOffset;
  if (text == "CONSUME_FROM_FIRST_OFFSET") return ConsumeFromWhere::kFirstOffset;
  if (text == "CONSUME_FROM_TIMESTAMP") return ConsumeFromWhere::kTimestamp;
  throw ConversionError("consumeFromWhere '" + text +
                        "' is not CONSUME_FROM_LAST_OFFSET, CONSUME_FROM_FIRST_OFFSET or CONSUME_FROM_TIMESTAMP");
}

}  // namespace

HostAddress parse_host_address(std::string_view text, std::string_view field) {
  HostAddress out;
  if (text.empty()) return out;
  auto fail = [&]() -> ConversionError {
    return ConversionError(std::string(field) + " '" + std::string(text) + "' is not an IPv4 \"a.b.c.d:port\" address");
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw fail();
  uint32_t port = 0;
  if (!parse_uint(text.substr(colon + 1), 65535, &port)) throw fail();
  std::string_view ip = text.substr(0, colon);
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    auto dot = ip.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) throw fail();
    uint32_t octet = 0;
    if (!parse_uint(ip.substr(0, dot), 255, &octet)) throw fail();
    value = (value << 8) | octet;
    ip = dot == std::string_view::npos ? std::string_view() : ip.substr(dot + 1);
  }
  out.ipv4 = value;
  out.port = static_cast<int32_t>(port);
  return out;
}

std::string format_host_address(const HostAddress& address) {
  if (address == HostAddress{}) return {};
  // Every message of a pull carries two hosts, nearly always the same few: the last one
  // formatted is kept per thread (the copy of a short string allocates nothing).
  thread_local HostAddress last{};
  thread_local std::string text;
  if (text.empty() || !(address == last)) {
    text = address.to_string();
    last = address;
  }
  return text;
}

Status to_status(int32_t code, const std::string& remark) {
  return code == 0 ? Status::ok() : Status(static_cast<Code>(code), remark);
}

mq::Message to_kernel(const wire::Message& in) {
  mq::Message out;
  out.topic = in.topic;
  out.flag = in.flag;
  out.properties = to_kernel_properties(in.properties);
  out.body = in.body;
  return out;
}

mq::SendRequest to_kernel(const wire::SendRequest& in) {
  mq::SendRequest out;
  out.producer_group = in.producerGroup;
  out.topic = in.topic;
  out.queue_id = in.queueId;
  out.messages.reserve(in.messages.size());
  for (const auto& m : in.messages) out.messages.push_back(to_kernel(m));
  out.born_timestamp_ms = in.bornTimestamp;
  out.born_host = parse_host_address(in.bornHost, "bornHost");
  out.sys_flag = in.sysFlag;
  out.reconsume_times = in.reconsumeTimes;
  if (in.__isset.encodedMessages) out.encoded_messages = in.encodedMessages;
  return out;
}

mq::SendRequest to_kernel(wire::SendRequest&& in) {
  mq::SendRequest out;
  out.producer_group = std::move(in.producerGroup);
  out.topic = std::move(in.topic);
  out.queue_id = in.queueId;
  out.messages.resize(in.messages.size());
  for (size_t i = 0; i < in.messages.size(); ++i) {
    wire::Message& m = in.messages[i];
    mq::Message& k = out.messages[i];
    k.topic = std::move(m.topic);
    k.flag = m.flag;
    k.properties.merge(m.properties);  // same node type whatever the comparator: no allocation
    k.body = std::move(m.body);
  }
  out.born_timestamp_ms = in.bornTimestamp;
  out.born_host = parse_host_address(in.bornHost, "bornHost");
  out.sys_flag = in.sysFlag;
  out.reconsume_times = in.reconsumeTimes;
  if (in.__isset.encodedMessages) out.encoded_messages = std::move(in.encodedMessages);
  return out;
}

mq::PullRequest to_kernel(const wire::PullRequest& in) {
  mq::PullRequest out;
  out.consumer_group = in.consumerGroup;
  out.topic = in.topic;
  out.queue_id = in.queueId;
  out.queue_offset = QueueOffset(in.queueOffset);
  out.max_msgs = in.maxMsgs;
  out.max_bytes = in.maxBytes;
  out.suspend_timeout_ms = in.suspendTimeoutMs;
  out.commit_offset = in.commitOffset;
  out.subscription = in.subscription;
  out.expression_type = in.expressionType;  // "TAG" when an older client omits it
  out.want_records = in.__isset.wantRecords && in.wantRecords;
  return out;
}

mq::TopicConfig to_kernel(const wire::TopicConfig& in) {
  return mq::TopicConfig{in.topicName, in.readQueueNums, in.writeQueueNums, in.perm};
}

mq::HeartbeatRequest to_kernel(const wire::HeartbeatRequest& in) {
  mq::HeartbeatRequest out;
  out.client_id = in.clientId;
  out.client_version = in.__isset.clientVersion ? in.clientVersion : 0;  // 0: the client did not say
  out.producer_groups = in.producerGroups;
  for (const auto& c : in.consumers) {
    ConsumerData data;
    data.group = c.groupName;
    data.consume_type = consume_type_from(c.consumeType);
    data.message_model = message_model_from(c.messageModel);
    data.consume_from_where = consume_from_where_from(c.consumeFromWhere);
    for (const auto& s : c.subscriptions) {
      data.subscriptions.push_back(mq::SubscriptionData{s.topic, s.expressionType, s.expression});
    }
    out.consumers.push_back(std::move(data));
  }
  return out;
}

mq::QueueRef to_kernel(const wire::QueueRef& in) {
  return mq::QueueRef{in.topic, in.queueId};
}

std::vector<mq::QueueRef> to_kernel(const std::vector<wire::QueueRef>& in) {
  std::vector<mq::QueueRef> out;
  out.reserve(in.size());
  for (const auto& q : in) out.push_back(to_kernel(q));
  return out;
}

mq::SubscriptionGroupConfig to_kernel(const wire::SubscriptionGroupConfig& in) {
  mq::SubscriptionGroupConfig out;
  out.group_name = in.groupName;
  out.consume_enable = in.consumeEnable;
  out.consume_broadcast_enable = in.consumeBroadcastEnable;
  out.retry_queue_nums = in.retryQueueNums;
  out.retry_max_times = in.retryMaxTimes;
  out.broker_id = in.brokerId;
  out.which_broker_when_consume_slowly = in.whichBrokerWhenConsumeSlowly;
  out.consume_message_orderly = in.consumeMessageOrderly;
  return out;
}

wire::MessageExt to_wire(const StoredMessage& in) {
  return to_wire(StoredMessage(in));
}

wire::MessageExt to_wire(StoredMessage&& in) {
  wire::MessageExt out;
  out.topic = std::move(in.topic);
  out.flag = in.flag;
  out.properties.merge(in.properties);  // moves the nodes (the comparators differ, the nodes do not)
  out.body = std::move(in.body);
  out.queueId = in.queue_id;
  out.queueOffset = in.queue_offset.value();
  out.commitLogOffset = in.commit_log_offset.value();
  out.sysFlag = in.sys_flag;
  out.bornTimestamp = in.born_timestamp_ms;
  out.bornHost = format_host_address(in.born_host);
  out.storeTimestamp = in.store_timestamp_ms;
  out.storeHost = format_host_address(in.store_host);
  out.reconsumeTimes = in.reconsume_times;
  out.offsetMsgId = make_offset_msg_id(in.store_host, in.commit_log_offset);
  out.storeSize = in.store_size;
  out.bodyCrc = static_cast<int32_t>(in.body_crc);
  out.preparedTransactionOffset = in.prepared_transaction_offset.value();
  return out;
}

wire::SendBatchResult to_wire(const mq::SendBatchResult& in) {
  wire::SendBatchResult out;
  out.firstQueueOffset = in.first_queue_offset.value();
  out.commitLogOffsets.reserve(in.commit_log_offsets.size());
  for (CommitLogOffset o : in.commit_log_offsets) out.commitLogOffsets.push_back(o.value());
  out.storeHost = in.store_host.to_string();
  for (const auto& [index, id] : in.assigned_msg_ids) out.assignedMsgIds.emplace(index, id);
  return out;
}

wire::SendResponse to_wire(const mq::SendResponse& in) {
  auto out = status_response<wire::SendResponse>(in.status);
  out.queueId = in.queue_id;
  out.results.reserve(in.results.size());
  for (const auto& r : in.results) {
    wire::SendResultItem item;
    item.msgId = r.msg_id;
    item.offsetMsgId = r.offset_msg_id;
    item.queueOffset = r.queue_offset.value();
    out.results.push_back(std::move(item));
  }
  if (in.batch) out.__set_batch(to_wire(*in.batch));
  return out;
}

wire::SendResponse to_wire(mq::SendResponse&& in) {
  auto out = status_response<wire::SendResponse>(in.status);
  out.queueId = in.queue_id;
  out.results.resize(in.results.size());
  for (size_t i = 0; i < in.results.size(); ++i) {
    out.results[i].msgId = std::move(in.results[i].msg_id);
    out.results[i].offsetMsgId = std::move(in.results[i].offset_msg_id);
    out.results[i].queueOffset = in.results[i].queue_offset.value();
  }
  if (in.batch) {  // moved: the generated setter copies
    out.batch = to_wire(*in.batch);
    out.__isset.batch = true;
  }
  return out;
}

wire::PullResponse to_wire(mq::PullResponse&& in) {
  auto out = status_response<wire::PullResponse>(in.status);
  out.nextBeginOffset = in.next_begin_offset.value();
  out.minOffset = in.min_offset.value();
  out.maxOffset = in.max_offset.value();
  out.messages.reserve(in.messages.size());
  for (auto& m : in.messages) out.messages.push_back(to_wire(std::move(m)));
  if (in.record_count > 0) {  // moved: the generated setter copies
    out.records = std::move(in.records);
    out.__isset.records = true;
  }
  if (in.suggest_which_broker_id != 0) out.__set_suggestWhichBrokerId(in.suggest_which_broker_id);
  return out;
}

wire::TopicConfig to_wire(const mq::TopicConfig& in) {
  wire::TopicConfig out;
  out.topicName = in.topic_name;
  out.readQueueNums = in.read_queue_nums;
  out.writeQueueNums = in.write_queue_nums;
  out.perm = in.perm;
  return out;
}

wire::QueueConsumeStat to_wire(const mq::QueueConsumeStat& in) {
  wire::QueueConsumeStat out;
  out.topic = in.topic;
  out.brokerName = in.broker_name;
  out.queueId = in.queue_id;
  out.brokerOffset = in.broker_offset.value();
  out.consumerOffset = in.consumer_offset;
  return out;
}

wire::QueueRef to_wire(const mq::QueueRef& in) {
  wire::QueueRef out;
  out.topic = in.topic;
  out.queueId = in.queue_id;
  return out;
}

std::vector<wire::QueueRef> to_wire(const std::vector<mq::QueueRef>& in) {
  std::vector<wire::QueueRef> out;
  out.reserve(in.size());
  for (const auto& q : in) out.push_back(to_wire(q));
  return out;
}

wire::ConsumerGroupChangeResponse to_wire(const ConsumerGroupChange& in) {
  auto out = status_response<wire::ConsumerGroupChangeResponse>(in.status);
  out.version = in.version;
  out.consumerIds = in.consumer_ids;
  out.offsetResetTopics = in.offset_reset_topics;
  return out;
}

mq::ConsumerSendBack to_kernel(const wire::ConsumerSendBackRequest& in) {
  mq::ConsumerSendBack out;
  out.group = in.consumerGroup;
  out.offset = CommitLogOffset(in.commitLogOffset);
  out.origin_msg_id = in.originMsgId;
  out.origin_topic = in.originTopic;
  out.delay_level = in.delayLevel;
  out.max_reconsume_times = in.maxReconsumeTimes;
  return out;
}

mq::EndTransaction to_kernel(const wire::EndTransactionRequest& in) {
  mq::EndTransaction out;
  out.producer_group = in.producerGroup;
  out.half_offset = CommitLogOffset(in.commitLogOffset);
  out.half_queue_offset = QueueOffset(in.tranStateTableOffset);
  out.msg_id = in.msgId;
  out.transaction_id = in.transactionId;
  out.commit_or_rollback = in.commitOrRollback;
  out.from_transaction_check = in.fromTransactionCheck;
  return out;
}

mq::TransactionCheckPoll to_kernel(const wire::TransactionCheckPollRequest& in) {
  mq::TransactionCheckPoll out;
  out.producer_group = in.producerGroup;
  out.client_id = in.clientId;
  out.max_checks = in.maxChecks;
  out.timeout_ms = in.timeoutMs;
  return out;
}

wire::TransactionCheckPollResponse to_wire(const TransactionChecks& in) {
  auto out = status_response<wire::TransactionCheckPollResponse>(in.status);
  out.checks.reserve(in.checks.size());
  for (const auto& c : in.checks) {
    wire::TransactionCheck check;
    check.message = to_wire(c.message);
    check.transactionId = c.transaction_id;
    out.checks.push_back(std::move(check));
  }
  return out;
}

wire::SubscriptionGroupConfig to_wire(const mq::SubscriptionGroupConfig& in) {
  wire::SubscriptionGroupConfig out;
  out.groupName = in.group_name;
  out.consumeEnable = in.consume_enable;
  out.consumeBroadcastEnable = in.consume_broadcast_enable;
  out.retryQueueNums = in.retry_queue_nums;
  out.retryMaxTimes = in.retry_max_times;
  out.brokerId = in.broker_id;
  out.whichBrokerWhenConsumeSlowly = in.which_broker_when_consume_slowly;
  out.consumeMessageOrderly = in.consume_message_orderly;
  return out;
}

wire::ConnectionInfo to_wire(const mq::ConnectionInfo& in) {
  wire::ConnectionInfo out;
  out.clientId = in.client_id;
  out.clientAddr = in.client_addr;
  out.language = in.language;
  out.version = in.version;
  out.lastHeartbeatTimestamp = in.last_heartbeat_ms;
  return out;
}

wire::SubscriptionData to_wire(const mq::SubscriptionData& in) {
  wire::SubscriptionData out;
  out.topic = in.topic;
  out.expressionType = in.expression_type;
  out.expression = in.expression;
  return out;
}

void fill_wire(const ConsumerConnection& in, wire::ConsumerConnectionResponse& out) {
  out.connections.reserve(in.connections.size());
  for (const auto& c : in.connections) out.connections.push_back(to_wire(c));
  out.consumeType = to_wire(in.consume_type);
  out.messageModel = to_wire(in.message_model);
  out.consumeFromWhere = to_wire(in.consume_from_where);
  for (const auto& s : in.subscriptions) out.subscriptions.push_back(to_wire(s));
  out.inconsistencies = in.inconsistencies;
}

BrokerRegistration to_kernel(const wire::RegisterBrokerRequest& in) {
  BrokerRegistration out;
  out.cluster_name = in.clusterName;
  out.broker_name = in.brokerName;
  out.broker_id = in.brokerId;
  out.broker_addr = in.brokerAddr;
  for (const auto& t : in.topics) out.topics.push_back(to_kernel(t));
  out.heartbeat_timeout_ms = in.heartbeatTimeoutMs;
  if (in.__isset.brokerRole) out.role = in.brokerRole;
  return out;
}

wire::RegisterBrokerRequest to_wire(const BrokerRegistration& in) {
  wire::RegisterBrokerRequest out;
  out.clusterName = in.cluster_name;
  out.brokerName = in.broker_name;
  out.brokerId = in.broker_id;
  out.brokerAddr = in.broker_addr;
  for (const auto& t : in.topics) out.topics.push_back(to_wire(t));
  out.heartbeatTimeoutMs = in.heartbeat_timeout_ms;
  if (!in.role.empty()) out.__set_brokerRole(in.role);
  return out;
}

wire::QueueData to_wire(const mq::QueueData& in) {
  wire::QueueData out;
  out.brokerName = in.broker_name;
  out.readQueueNums = in.read_queue_nums;
  out.writeQueueNums = in.write_queue_nums;
  out.perm = in.perm;
  return out;
}

wire::BrokerData to_wire(const mq::BrokerData& in) {
  wire::BrokerData out;
  out.cluster = in.cluster;
  out.brokerName = in.broker_name;
  out.brokerAddrs = {in.broker_addrs.begin(), in.broker_addrs.end()};
  if (!in.broker_roles.empty()) out.__set_brokerRoles({in.broker_roles.begin(), in.broker_roles.end()});
  return out;
}

wire::TopicRouteResponse to_wire(const TopicRoute& in) {
  auto out = status_response<wire::TopicRouteResponse>(Status::ok());
  for (const auto& q : in.queues) out.queues.push_back(to_wire(q));
  for (const auto& b : in.brokers) out.brokers.push_back(to_wire(b));
  return out;
}

wire::ClusterInfoResponse to_wire(const ClusterInfo& in) {
  auto out = status_response<wire::ClusterInfoResponse>(Status::ok());
  for (const auto& [name, data] : in.brokers) out.brokers.emplace(name, to_wire(data));
  out.clusters = {in.clusters.begin(), in.clusters.end()};
  return out;
}

std::string_view to_wire(ConsumeType value) {
  return value == ConsumeType::kPull ? "PULL" : "PUSH";
}

std::string_view to_wire(MessageModel value) {
  return value == MessageModel::kBroadcasting ? "BROADCASTING" : "CLUSTERING";
}

std::string_view to_wire(ConsumeFromWhere value) {
  switch (value) {
    case ConsumeFromWhere::kFirstOffset:
      return "CONSUME_FROM_FIRST_OFFSET";
    case ConsumeFromWhere::kTimestamp:
      return "CONSUME_FROM_TIMESTAMP";
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  return "CONSUME_FROM_LAST_OFFSET";
}

}  // namespace mq::transport_thrift
