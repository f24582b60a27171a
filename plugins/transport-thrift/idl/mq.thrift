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
  // Instead of `messages` (which must then be empty): the messages encoded back to back,
  // RocketMQ's batch body (docs/protocol.md "Encoded batches"). Per message, big-endian:
  // i32 flag, i32 body length, body, i32 properties length, properties (name \x01 value \x02 ...).
  // The broker stores them without decoding each into a struct, and answers with `batch`.
  10: optional binary encodedMessages
}

struct SendResultItem {
  1: string msgId                      // client id (UNIQ_KEY)
  2: string offsetMsgId
  3: i64 queueOffset
}

// The results of a send with encodedMessages, for message i of the request.
struct SendBatchResult {
  1: i64 firstQueueOffset              // message i was stored at queue offset firstQueueOffset + i
  2: list<i64> commitLogOffsets        // its offsetMsgId is made from storeHost and commitLogOffsets[i]
  3: string storeHost                  // "ip:port"
  4: map<i32, string> assignedMsgIds   // index -> UNIQ_KEY the broker gave a message sent without one
}

struct SendResponse {
  1: i32 code
  2: string remark
  3: i32 queueId
  4: list<SendResultItem> results      // empty when the request had encodedMessages
  5: optional SendBatchResult batch    // set when the request had encodedMessages
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
  9: string subscription = "*"         // "TagA || TagB" or "*", or an SQL92 expression
  10: optional i32 clientVersion
  11: optional string expressionType = "TAG"   // TAG | SQL92
  // true: answer with `records` (PullResponse 8) instead of `messages` when the broker's
  // store keeps message records; older brokers ignore it and answer with `messages`.
  12: optional bool wantRecords = false
}

struct PullResponse {
  1: i32 code                          // 0 FOUND, 19 no new message, 20 retry, 21 offset moved
  2: string remark
  3: i64 nextBeginOffset
  4: i64 minOffset
  5: i64 maxOffset
  6: list<MessageExt> messages
  // Where the consumer should pull this queue next (RocketMQ suggestWhichBrokerId): 0 the
  // master; a slave's broker id when the consumer is far behind (its unread bytes exceed
  // accessMessageInMemoryMaxRatio % of the broker's memory) and the group's
  // whichBrokerWhenConsumeSlowly names that slave. Clients follow it while that broker is reachable.
  7: optional i64 suggestWhichBrokerId = 0
  // Set when the request had wantRecords and the store could: the found messages as message
  // records back to back (RocketMQ's V1 commit-log layout, docs/protocol.md "Message
  // records"), copied from the log; `messages` is then empty.
  8: optional binary records
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


// ---- added in protocol version 1 for client features (issue: transport, name server, SDK) ----

struct ServerInfoResponse {
  1: i32 code
  2: string remark
  3: i32 protocolVersion               // PROTOCOL_VERSION of the server
  4: i32 minClientVersion              // older clients get VERSION_NOT_SUPPORTED (15)
  5: string serverVersion              // e.g. "0.1.0"
}

struct LockBatchRequest {
  1: string consumerGroup
  2: string clientId
  3: list<QueueRef> queues
}

struct LockBatchResponse {
  1: i32 code
  2: string remark
  3: list<QueueRef> lockedQueues       // the subset now locked by clientId
}

// A long poll: answered at once when the group's version differs from knownVersion,
// otherwise when it changes (a member joined or left, or offsets were reset) or after
// timeoutMs with the unchanged version.
struct ConsumerGroupChangeRequest {
  1: string consumerGroup
  2: string clientId
  3: i64 knownVersion = -1
  4: i64 timeoutMs = 30000
}

struct ConsumerGroupChangeResponse {
  1: i32 code
  2: string remark
  3: i64 version
  4: list<string> consumerIds          // sorted
  5: list<string> offsetResetTopics    // topics whose offsets were reset after knownVersion
}

struct SubscriptionGroupConfig {
  1: string groupName
  2: bool consumeEnable = true
  3: bool consumeBroadcastEnable = true
  4: i32 retryQueueNums = 1
  5: i32 retryMaxTimes = 16
  6: i64 brokerId = 0
  7: i64 whichBrokerWhenConsumeSlowly = 1
  8: bool consumeMessageOrderly = false
}

struct SubscriptionGroupListResponse {
  1: i32 code
  2: string remark
  3: list<SubscriptionGroupConfig> groups
}

struct MessageResponse {
  1: i32 code                          // 22 QUERY_NOT_FOUND if no record starts there
  2: string remark
  3: MessageExt message
}

struct QueryMessageRequest {
  1: string topic
  2: string key                        // a KEYS entry or a UNIQ_KEY (client msgId)
  3: i32 maxNum = 32
  4: i64 beginTimestamp = 0
  5: i64 endTimestamp = -1             // -1: no upper bound
}

struct QueryMessageResponse {
  1: i32 code
  2: string remark
  3: list<MessageExt> messages
}

struct ResetOffsetRequest {
  1: string consumerGroup
  2: string topic
  3: i64 timestamp                     // ms; -1: the queue's max offset
  4: bool force = true                 // false: never move an offset backwards
}

struct ResetOffsetResponse {
  1: i32 code
  2: string remark
  3: map<i32, i64> offsetTable         // queue id -> new offset
}

struct ConnectionInfo {
  1: string clientId
  2: string clientAddr
  3: string language = "CPP"
  4: i32 version
  5: i64 lastHeartbeatTimestamp
}

struct ConsumerConnectionResponse {
  1: i32 code                          // 206 CONSUMER_NOT_ONLINE if the group has no live member
  2: string remark
  3: list<ConnectionInfo> connections
  4: string consumeType
  5: string messageModel
  6: string consumeFromWhere
  7: list<SubscriptionData> subscriptions   // the union over members
  8: list<string> inconsistencies           // readable: members whose subscriptions differ
}

struct ProducerConnectionResponse {
  1: i32 code
  2: string remark
  3: list<ConnectionInfo> connections
}

// ---- added for retry, delay and transactions (served by the schedule and transaction
// plugins; without them the broker answers 3 REQUEST_CODE_NOT_SUPPORTED) ----

// RocketMQ CONSUMER_SEND_MSG_BACK: the consumer failed this message; the broker stores it
// in %RETRY%<group> with a delay, or in %DLQ%<group> past the maximum.
struct ConsumerSendBackRequest {
  1: string consumerGroup
  2: i64 commitLogOffset               // the failed message's record (its offsetMsgId)
  3: string originMsgId                // the client id (UNIQ_KEY) the listener saw
  4: string originTopic                // the topic the listener saw
  5: i32 delayLevel = 0                // 0: broker picks 3 + reconsumeTimes; -1: straight to the DLQ
  6: i32 maxReconsumeTimes = -1        // -1: the group's retryMaxTimes
}

struct CancelScheduledRequest {
  1: string topic                      // the topic the message was sent to
  2: string msgId                      // its client id (UNIQ_KEY)
}

// RocketMQ END_TRANSACTION.
struct EndTransactionRequest {
  1: string producerGroup
  2: i64 commitLogOffset               // of the half message (from the send's offsetMsgId)
  3: i64 tranStateTableOffset          // queue offset of the half message (from the send)
  4: string msgId                      // client id (UNIQ_KEY)
  5: string transactionId
  6: i32 commitOrRollback              // 8 COMMIT, 12 ROLLBACK, 0 UNKNOWN
  7: bool fromTransactionCheck = false
}

// Check-back as a long poll: the producer asks for the checks due to its group.
struct TransactionCheckPollRequest {
  1: string producerGroup
  2: string clientId
  3: i32 maxChecks = 32
  4: i64 timeoutMs = 15000             // answered at once when checks are due
}

struct TransactionCheck {
  1: MessageExt message                // the half as sent (real topic); offsets are the half's
  2: string transactionId
}

struct TransactionCheckPollResponse {
  1: i32 code
  2: string remark
  3: list<TransactionCheck> checks
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
  // Methods added for client features; appended so older clients are unaffected.
  ServerInfoResponse getServerInfo()
  LockBatchResponse lockBatchMQ(1: LockBatchRequest request)
  BaseResponse unlockBatchMQ(1: LockBatchRequest request)
  ConsumerGroupChangeResponse waitConsumerGroupChange(1: ConsumerGroupChangeRequest request)
  BaseResponse deleteTopic(1: string topic)
  BaseResponse updateSubscriptionGroup(1: SubscriptionGroupConfig config)
  SubscriptionGroupListResponse getAllSubscriptionGroups()
  MessageResponse viewMessage(1: i64 commitLogOffset)
  QueryMessageResponse queryMessageByKey(1: QueryMessageRequest request)
  ResetOffsetResponse resetOffsetByTimestamp(1: ResetOffsetRequest request)
  ConsumerConnectionResponse getConsumerConnectionList(1: string consumerGroup)
  ProducerConnectionResponse getProducerConnectionList(1: string producerGroup)
  BaseResponse consumerSendMsgBack(1: ConsumerSendBackRequest request)
  BaseResponse cancelScheduledMessage(1: CancelScheduledRequest request)
  BaseResponse endTransaction(1: EndTransactionRequest request)
  TransactionCheckPollResponse pollTransactionChecks(1: TransactionCheckPollRequest request)
}

struct RegisterBrokerRequest {
  1: string clusterName
  2: string brokerName
  3: i64 brokerId
  4: string brokerAddr
  5: list<TopicConfig> topics
  6: i64 heartbeatTimeoutMs = 120000
  7: optional string brokerRole         // ASYNC_MASTER | SYNC_MASTER | SLAVE (absent: by brokerId)
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
  4: optional map<i64, string> brokerRoles  // broker id -> registered role (getClusterInfo only)
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
