// The wire contract of the broker and the name server: the public API for clients in any
// Thrift language. Transport: framed. Protocol: binary.
//
// Evolution rules (so old clients keep working):
//  - never renumber or change the type of a field; never reuse a removed field id;
//  - new fields are optional with a default, new methods are added at the end;
//  - PROTOCOL_VERSION is bumped when a change alters behaviour; clients may send their
//    version in `clientVersion` and servers answer VERSION_NOT_SUPPORTED (15) if too old.
//
// Every response struct starts with `1: i32 code` (RocketMQ ResponseCode values: 0 SUCCESS,
// 17 TOPIC_NOT_EXIST, 19 PULL_NOT_FOUND, ...) and `2: string remark` (a readable reason).

namespace cpp mq.wire
namespace py mq_wire

const i32 PROTOCOL_VERSION = 1

struct Message {
  1: string topic
  2: i32 flag = 0
  3: map<string, string> properties   // TAGS, KEYS, UNIQ_KEY, user properties
  4: binary body
}

// A stored message as returned by pull and query calls.
struct MessageExt {
  1: string topic
  2: i32 flag = 0
  3: map<string, string> properties
  4: binary body
  5: i32 queueId
  6: i64 queueOffset
  7: i64 commitLogOffset
  8: i32 sysFlag
  9: i64 bornTimestamp
  10: string bornHost                 // "ip:port"
  11: i64 storeTimestamp
  12: string storeHost                // "ip:port"
  13: i32 reconsumeTimes
  14: string offsetMsgId              // broker message id (store host + commit-log offset)
  15: i32 storeSize
  16: i32 bodyCrc
  17: i64 preparedTransactionOffset
}

struct BaseResponse {
  1: i32 code
  2: string remark
}

struct TopicConfig {
  1: string topicName
  2: i32 readQueueNums = 4
  3: i32 writeQueueNums = 4
  4: i32 perm = 6                      // PermName bits: 4 read, 2 write
}

struct SendRequest {
  1: string producerGroup
  2: string topic
  3: i32 queueId = -1                  // -1: the broker picks
  4: list<Message> messages            // one, or a batch stored consecutively in one queue
  5: i64 bornTimestamp
  6: string bornHost
  7: i32 sysFlag = 0
  8: i32 reconsumeTimes = 0
  9: optional i32 clientVersion
}

struct SendResultItem {
  1: string msgId                      // client id (UNIQ_KEY)
  2: string offsetMsgId
  3: i64 queueOffset
}

struct SendResponse {
  1: i32 code
  2: string remark
  3: i32 queueId
  4: list<SendResultItem> results
}

struct PullRequest {
  1: string consumerGroup
  2: string topic
  3: i32 queueId
  4: i64 queueOffset
  5: i32 maxMsgs = 32
  6: i32 maxBytes = 262144
  7: i64 suspendTimeoutMs = 15000      // 0: no long polling
  8: i64 commitOffset = -1             // >= 0: also commit this offset for the group
  9: string subscription = "*"         // "TagA || TagB" or "*"
  10: optional i32 clientVersion
}

struct PullResponse {
  1: i32 code                          // 0 FOUND, 19 no new message, 20 retry, 21 offset moved
  2: string remark
  3: i64 nextBeginOffset
  4: i64 minOffset
  5: i64 maxOffset
  6: list<MessageExt> messages
}

struct QueueRef {
  1: string topic
  2: i32 queueId
}

struct ConsumerOffsetRequest {
  1: string consumerGroup
  2: string topic
  3: i32 queueId
  4: i64 offset = -1                   // used by updateConsumerOffset
}

struct SearchOffsetRequest {
  1: string topic
  2: i32 queueId
  3: i64 timestamp
}

struct OffsetResponse {
  1: i32 code                          // 22 QUERY_NOT_FOUND when a group has no offset
  2: string remark
  3: i64 offset
}

struct SubscriptionData {
  1: string topic
  2: string expressionType = "TAG"
  3: string expression = "*"
}

struct ConsumerData {
  1: string groupName
  2: string consumeType = "PUSH"       // PUSH | PULL
  3: string messageModel = "CLUSTERING" // CLUSTERING | BROADCASTING
  4: string consumeFromWhere = "CONSUME_FROM_LAST_OFFSET"
  5: list<SubscriptionData> subscriptions
}

struct HeartbeatRequest {
  1: string clientId
  2: list<string> producerGroups
  3: list<ConsumerData> consumers
  4: optional i32 clientVersion
}

struct ConsumerListResponse {
  1: i32 code
  2: string remark
  3: list<string> consumerIds
}

struct TopicListResponse {
  1: i32 code
  2: string remark
  3: list<TopicConfig> topics
}

struct QueueConsumeStat {
  1: string topic
  2: string brokerName
  3: i32 queueId
  4: i64 brokerOffset
  5: i64 consumerOffset
}

struct ConsumeStatsResponse {
  1: i32 code
  2: string remark
  3: list<QueueConsumeStat> queues
}

struct RuntimeInfoResponse {
  1: i32 code
  2: string remark
  3: map<string, string> info
}

service BrokerService {
  SendResponse send(1: SendRequest request)
  oneway void sendOneway(1: SendRequest request)
  PullResponse pull(1: PullRequest request)
  OffsetResponse queryConsumerOffset(1: ConsumerOffsetRequest request)
  BaseResponse updateConsumerOffset(1: ConsumerOffsetRequest request)
  OffsetResponse getMinOffset(1: QueueRef queue)
  OffsetResponse getMaxOffset(1: QueueRef queue)
  OffsetResponse searchOffsetByTimestamp(1: SearchOffsetRequest request)
  BaseResponse heartbeat(1: HeartbeatRequest request)
  BaseResponse unregisterClient(1: string clientId)
  ConsumerListResponse getConsumerList(1: string consumerGroup)
  BaseResponse createTopic(1: TopicConfig config)
  TopicListResponse getTopicList()
  ConsumeStatsResponse getConsumeStats(1: string consumerGroup, 2: string topic)
  RuntimeInfoResponse getBrokerRuntimeInfo()
}

struct RegisterBrokerRequest {
  1: string clusterName
  2: string brokerName
  3: i64 brokerId
  4: string brokerAddr
  5: list<TopicConfig> topics
  6: i64 heartbeatTimeoutMs = 120000
}

struct UnregisterBrokerRequest {
  1: string clusterName
  2: string brokerName
  3: i64 brokerId
  4: string brokerAddr
}

struct QueueData {
  1: string brokerName
  2: i32 readQueueNums
  3: i32 writeQueueNums
  4: i32 perm
}

struct BrokerData {
  1: string cluster
  2: string brokerName
  3: map<i64, string> brokerAddrs      // broker id -> "host:port"; 0 is the master
}

struct TopicRouteResponse {
  1: i32 code                          // 17 TOPIC_NOT_EXIST if no broker serves the topic
  2: string remark
  3: list<QueueData> queues
  4: list<BrokerData> brokers
}

struct ClusterInfoResponse {
  1: i32 code
  2: string remark
  3: map<string, BrokerData> brokers             // broker name -> data
  4: map<string, list<string>> clusters          // cluster name -> broker names
}

struct NameListResponse {
  1: i32 code
  2: string remark
  3: list<string> names
}

service NameServerService {
  BaseResponse registerBroker(1: RegisterBrokerRequest request)
  BaseResponse unregisterBroker(1: UnregisterBrokerRequest request)
  TopicRouteResponse getRouteInfoByTopic(1: string topic)
  ClusterInfoResponse getClusterInfo()
  NameListResponse getAllTopicList()
}
