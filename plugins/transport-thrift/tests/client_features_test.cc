// Round trip of the BrokerService methods added for client features (locks, group-change
// long poll, admin and query calls), the client-version rule and the peer address that the
// transport puts into heartbeats.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "mq_constants.h"
#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

constexpr int32_t kVersionNotSupported = 15;

class ClientFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.serve_broker(api_);
    channel_ = harness_.connect_broker();
  }
  wire::BrokerServiceClient& client() { return channel_->broker(); }

  FakeBrokerApi api_;
  TransportHarness harness_;
  std::unique_ptr<wire::ClientChannel> channel_;
};

StoredMessage stored_message(const std::string& key, int64_t commit_log_offset) {
  StoredMessage m;
  m.topic = "TopicK";
  m.flag = 3;
  m.properties = {{"KEYS", key}, {"TAGS", "T1"}};
  m.body = std::string("b\0dy-", 5) + key;
  m.queue_id = 2;
  m.queue_offset = QueueOffset(40);
  m.commit_log_offset = CommitLogOffset(commit_log_offset);
  m.born_host = HostAddress{0x7F000001, 4000};
  m.store_host = HostAddress{0x0A000002, 10911};
  m.born_timestamp_ms = 1000;
  m.store_timestamp_ms = 1001;
  m.store_size = 200;
  m.body_crc = 42;
  return m;
}

TEST_F(ClientFeatures, ServerInfoReportsVersions) {
  wire::ServerInfoResponse info;
  client().getServerInfo(info);
  EXPECT_EQ(info.code, 0);
  EXPECT_EQ(info.protocolVersion, wire::g_mq_constants.PROTOCOL_VERSION);
  EXPECT_EQ(info.protocolVersion, 1);
  EXPECT_EQ(info.minClientVersion, 1);
  EXPECT_EQ(info.serverVersion, "0.1.0");
}

TEST_F(ClientFeatures, LockAndUnlockBatch) {
  std::string lock_args;
  std::vector<QueueRef> lock_queues;
  api_.on_lock_batch = [&](const std::string& group, const std::string& client_id,
                           const std::vector<QueueRef>& queues) -> Result<std::vector<QueueRef>> {
    if (group == "busy") return Status(Code::kSystemBusy, "lock table busy");
    lock_args = group + "/" + client_id;
    lock_queues = queues;
    return std::vector<QueueRef>{queues.at(1)};  // only the second one is granted
  };
  std::string unlock_args;
  std::vector<QueueRef> unlock_queues;
  api_.on_unlock_batch = [&](const std::string& group, const std::string& client_id,
                             const std::vector<QueueRef>& queues) {
    unlock_args = group + "/" + client_id;
    unlock_queues = queues;
    return Status(Code::kNoPermission, "not yours");
  };

  wire::LockBatchRequest request;
  request.consumerGroup = "og";
  request.clientId = "c1";
  request.queues.resize(2);
  request.queues[0].topic = "A";
  request.queues[0].queueId = 0;
  request.queues[1].topic = "B";
  request.queues[1].queueId = 7;
  wire::LockBatchResponse locked;
  client().lockBatchMQ(locked, request);
  EXPECT_EQ(locked.code, 0);
  EXPECT_EQ(lock_args, "og/c1");
  EXPECT_EQ(lock_queues, (std::vector<QueueRef>{{"A", 0}, {"B", 7}}));
  ASSERT_EQ(locked.lockedQueues.size(), 1u);
  EXPECT_EQ(locked.lockedQueues[0].topic, "B");
  EXPECT_EQ(locked.lockedQueues[0].queueId, 7);

  request.consumerGroup = "busy";
  client().lockBatchMQ(locked, request);
  EXPECT_EQ(locked.code, 2);
  EXPECT_EQ(locked.remark, "lock table busy");
  EXPECT_TRUE(locked.lockedQueues.empty());

  request.consumerGroup = "og2";
  request.clientId = "c2";
  wire::BaseResponse base;
  client().unlockBatchMQ(base, request);
  EXPECT_EQ(unlock_args, "og2/c2");
  EXPECT_EQ(unlock_queues, (std::vector<QueueRef>{{"A", 0}, {"B", 7}}));
  EXPECT_EQ(base.code, 16);
  EXPECT_EQ(base.remark, "not yours");
}

TEST_F(ClientFeatures, HeldGroupChangeIsCompletedLaterFromAnotherThread) {
  std::mutex mu;
  std::condition_variable cv;
  std::string args;
  Reply<ConsumerGroupChange> held;
  api_.on_wait_consumer_group_change = [&](const std::string& group, const std::string& client_id,
                                           int64_t known_version, int64_t timeout_ms,
                                           Reply<ConsumerGroupChange> reply) {
    std::lock_guard lock(mu);
    args = group + "/" + client_id + "/" + std::to_string(known_version) + "/" + std::to_string(timeout_ms);
    held = std::move(reply);
    cv.notify_all();
  };
  api_.on_topics = [] { return std::vector<TopicConfig>{{"T", 1, 1, 6}}; };

  std::atomic<bool> answered{false};
  wire::ConsumerGroupChangeResponse response;
  std::thread waiter([&] {
    wire::ConsumerGroupChangeRequest request;
    request.consumerGroup = "g";
    request.clientId = "c1";
    request.knownVersion = 4;
    request.timeoutMs = 20000;
    client().waitConsumerGroupChange(response, request);
    answered = true;
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held != nullptr; }));
  }
  EXPECT_EQ(args, "g/c1/4/20000");

  // Other connections are served while the wait is held.
  auto other = harness_.connect_broker();
  wire::TopicListResponse topics;
  other->broker().getTopicList(topics);
  EXPECT_EQ(topics.topics.size(), 1u);
  EXPECT_FALSE(answered.load());

  std::thread completer([&] {
    ConsumerGroupChange change;
    change.version = 5;
    change.consumer_ids = {"c1", "c2"};
    change.offset_reset_topics = {"T"};
    std::lock_guard lock(mu);
    held(std::move(change));
  });
  completer.join();
  waiter.join();
  EXPECT_EQ(response.code, 0);
  EXPECT_EQ(response.version, 5);
  EXPECT_EQ(response.consumerIds, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(response.offsetResetTopics, (std::vector<std::string>{"T"}));
}

TEST_F(ClientFeatures, GroupChangeErrorAndDefaults) {
  std::string args;
  api_.on_wait_consumer_group_change = [&](const std::string& group, const std::string& client_id,
                                           int64_t known_version, int64_t timeout_ms,
                                           Reply<ConsumerGroupChange> reply) {
    args = group + "/" + client_id + "/" + std::to_string(known_version) + "/" + std::to_string(timeout_ms);
    ConsumerGroupChange change;
    change.status = Status(Code::kSubscriptionGroupNotExist, "no group x");
    change.version = 9;
    reply(std::move(change));
  };
  wire::ConsumerGroupChangeRequest request;  // IDL defaults: knownVersion -1, timeoutMs 30000
  request.consumerGroup = "x";
  wire::ConsumerGroupChangeResponse response;
  client().waitConsumerGroupChange(response, request);
  EXPECT_EQ(args, "x//-1/30000");
  EXPECT_EQ(response.code, 26);
  EXPECT_EQ(response.remark, "no group x");
  EXPECT_EQ(response.version, 9);
}

TEST_F(ClientFeatures, TopicAndSubscriptionGroupAdmin) {
  std::string deleted;
  api_.on_delete_topic = [&](const std::string& topic) {
    deleted = topic;
    return topic == "missing" ? Status(Code::kTopicNotExist, "no topic missing") : Status::ok();
  };
  SubscriptionGroupConfig updated;
  api_.on_update_subscription_group = [&](const SubscriptionGroupConfig& config) {
    updated = config;
    return Status::ok();
  };
  SubscriptionGroupConfig g1;
  g1.group_name = "g1";
  SubscriptionGroupConfig g2{"g2", false, false, 3, 5, 2, 0, true};
  api_.on_subscription_groups = [&] { return std::vector<SubscriptionGroupConfig>{g1, g2}; };

  wire::BaseResponse base;
  client().deleteTopic(base, "T1");
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(deleted, "T1");
  client().deleteTopic(base, "missing");
  EXPECT_EQ(base.code, 17);
  EXPECT_EQ(base.remark, "no topic missing");

  wire::SubscriptionGroupConfig config;
  config.groupName = "g9";
  config.consumeEnable = false;
  config.consumeBroadcastEnable = false;
  config.retryQueueNums = 4;
  config.retryMaxTimes = 7;
  config.brokerId = 3;
  config.whichBrokerWhenConsumeSlowly = 2;
  config.consumeMessageOrderly = true;
  client().updateSubscriptionGroup(base, config);
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(updated, (SubscriptionGroupConfig{"g9", false, false, 4, 7, 3, 2, true}));

  // Defaults survive the trip too.
  client().updateSubscriptionGroup(base, wire::SubscriptionGroupConfig());
  EXPECT_EQ(updated, SubscriptionGroupConfig());

  wire::SubscriptionGroupListResponse list;
  client().getAllSubscriptionGroups(list);
  EXPECT_EQ(list.code, 0);
  ASSERT_EQ(list.groups.size(), 2u);
  EXPECT_EQ(list.groups[0].groupName, "g1");
  EXPECT_TRUE(list.groups[0].consumeEnable);
  EXPECT_TRUE(list.groups[0].consumeBroadcastEnable);
  EXPECT_EQ(list.groups[0].retryQueueNums, 1);
  EXPECT_EQ(list.groups[0].retryMaxTimes, 16);
  EXPECT_EQ(list.groups[0].brokerId, 0);
  EXPECT_EQ(list.groups[0].whichBrokerWhenConsumeSlowly, 1);
  EXPECT_FALSE(list.groups[0].consumeMessageOrderly);
  EXPECT_EQ(list.groups[1].groupName, "g2");
  EXPECT_FALSE(list.groups[1].consumeEnable);
  EXPECT_FALSE(list.groups[1].consumeBroadcastEnable);
  EXPECT_EQ(list.groups[1].retryQueueNums, 3);
  EXPECT_EQ(list.groups[1].retryMaxTimes, 5);
  EXPECT_EQ(list.groups[1].brokerId, 2);
  EXPECT_EQ(list.groups[1].whichBrokerWhenConsumeSlowly, 0);
  EXPECT_TRUE(list.groups[1].consumeMessageOrderly);
}

TEST_F(ClientFeatures, ViewMessageAndQueryByKey) {
  api_.on_view_message = [](CommitLogOffset offset) -> Result<StoredMessage> {
    if (offset.value() != 777) return Status(Code::kQueryNotFound, "no record at " + std::to_string(offset.value()));
    return stored_message("k0", 777);
  };
  std::string query_args;
  api_.on_query_message_by_key = [&](const std::string& topic, const std::string& key, int32_t max_count,
                                     int64_t begin_ms, int64_t end_ms) -> Result<std::vector<StoredMessage>> {
    query_args = topic + "/" + key + "/" + std::to_string(max_count) + "/" + std::to_string(begin_ms) + "/" +
                 std::to_string(end_ms);
    if (key == "none") return Status(Code::kQueryNotFound, "nothing for none");
    return std::vector<StoredMessage>{stored_message(key, 900), stored_message(key, 500)};
  };

  wire::MessageResponse viewed;
  client().viewMessage(viewed, 777);
  EXPECT_EQ(viewed.code, 0);
  EXPECT_EQ(viewed.message.topic, "TopicK");
  EXPECT_EQ(viewed.message.flag, 3);
  EXPECT_EQ(viewed.message.properties.at("KEYS"), "k0");
  EXPECT_EQ(viewed.message.body, std::string("b\0dy-k0", 7));
  EXPECT_EQ(viewed.message.queueId, 2);
  EXPECT_EQ(viewed.message.queueOffset, 40);
  EXPECT_EQ(viewed.message.commitLogOffset, 777);
  EXPECT_EQ(viewed.message.bornHost, "127.0.0.1:4000");
  EXPECT_EQ(viewed.message.storeHost, "10.0.0.2:10911");
  EXPECT_EQ(viewed.message.storeSize, 200);
  EXPECT_EQ(viewed.message.bodyCrc, 42);
  EXPECT_EQ(viewed.message.offsetMsgId, make_offset_msg_id(HostAddress{0x0A000002, 10911}, CommitLogOffset(777)));
  client().viewMessage(viewed, 5);
  EXPECT_EQ(viewed.code, 22);
  EXPECT_EQ(viewed.remark, "no record at 5");

  wire::QueryMessageRequest query;
  query.topic = "TopicK";
  query.key = "order-1";
  query.maxNum = 10;
  query.beginTimestamp = 100;
  query.endTimestamp = 200;
  wire::QueryMessageResponse found;
  client().queryMessageByKey(found, query);
  EXPECT_EQ(query_args, "TopicK/order-1/10/100/200");
  EXPECT_EQ(found.code, 0);
  ASSERT_EQ(found.messages.size(), 2u);
  EXPECT_EQ(found.messages[0].commitLogOffset, 900);
  EXPECT_EQ(found.messages[1].commitLogOffset, 500);
  EXPECT_EQ(found.messages[1].properties.at("KEYS"), "order-1");

  wire::QueryMessageRequest defaults;  // IDL defaults: maxNum 32, [0, -1]
  defaults.topic = "TopicK";
  defaults.key = "none";
  client().queryMessageByKey(found, defaults);
  EXPECT_EQ(query_args, "TopicK/none/32/0/-1");
  EXPECT_EQ(found.code, 22);
  EXPECT_EQ(found.remark, "nothing for none");
  EXPECT_TRUE(found.messages.empty());
}

TEST_F(ClientFeatures, ResetOffsetByTimestamp) {
  std::string args;
  api_.on_reset_offset_by_timestamp = [&](const std::string& group, const std::string& topic, int64_t ts,
                                          bool force) -> Result<std::map<QueueId, int64_t>> {
    args = group + "/" + topic + "/" + std::to_string(ts) + "/" + (force ? "force" : "keep");
    if (topic == "none") return Status(Code::kTopicNotExist, "no topic none");
    return std::map<QueueId, int64_t>{{0, 10}, {3, 1LL << 40}};
  };
  wire::ResetOffsetRequest request;
  request.consumerGroup = "g";
  request.topic = "T";
  request.timestamp = 123456789;
  request.force = false;
  wire::ResetOffsetResponse response;
  client().resetOffsetByTimestamp(response, request);
  EXPECT_EQ(args, "g/T/123456789/keep");
  EXPECT_EQ(response.code, 0);
  EXPECT_EQ(response.offsetTable, (std::map<int32_t, int64_t>{{0, 10}, {3, 1LL << 40}}));

  wire::ResetOffsetRequest defaults;  // IDL default: force = true
  defaults.consumerGroup = "g";
  defaults.topic = "none";
  defaults.timestamp = -1;
  client().resetOffsetByTimestamp(response, defaults);
  EXPECT_EQ(args, "g/none/-1/force");
  EXPECT_EQ(response.code, 17);
  EXPECT_EQ(response.remark, "no topic none");
  EXPECT_TRUE(response.offsetTable.empty());
}

TEST_F(ClientFeatures, ConsumerAndProducerConnections) {
  api_.on_consumer_connection = [](const std::string& group) -> Result<ConsumerConnection> {
    if (group == "gone") return Status(Code::kConsumerNotOnline, "no consumer of gone is online");
    ConsumerConnection out;
    out.connections = {ConnectionInfo{"c1", "10.0.0.5:5000", "CPP", 1, 1111},
                       ConnectionInfo{"c2", "10.0.0.6:5001", "PYTHON", 2, 2222}};
    out.consume_type = ConsumeType::kPull;
    out.message_model = MessageModel::kBroadcasting;
    out.consume_from_where = ConsumeFromWhere::kTimestamp;
    out.subscriptions = {{"A", "TAG", "x || y"}, {"B", "SQL92", "a > 3"}};
    out.inconsistencies = {"c2 subscribes B with 'a > 3', c1 does not"};
    return out;
  };
  api_.on_producer_connection = [](const std::string& group) -> Result<std::vector<ConnectionInfo>> {
    if (group != "pg") return Status(Code::kSystemError, "no producer group " + group);
    return std::vector<ConnectionInfo>{{"p1", "10.0.0.7:6000", "CPP", 1, 3333}};
  };

  wire::ConsumerConnectionResponse consumers;
  client().getConsumerConnectionList(consumers, "cg");
  EXPECT_EQ(consumers.code, 0);
  ASSERT_EQ(consumers.connections.size(), 2u);
  EXPECT_EQ(consumers.connections[0].clientId, "c1");
  EXPECT_EQ(consumers.connections[0].clientAddr, "10.0.0.5:5000");
  EXPECT_EQ(consumers.connections[0].language, "CPP");
  EXPECT_EQ(consumers.connections[0].version, 1);
  EXPECT_EQ(consumers.connections[0].lastHeartbeatTimestamp, 1111);
  EXPECT_EQ(consumers.connections[1].language, "PYTHON");
  EXPECT_EQ(consumers.connections[1].version, 2);
  EXPECT_EQ(consumers.consumeType, "PULL");
  EXPECT_EQ(consumers.messageModel, "BROADCASTING");
  EXPECT_EQ(consumers.consumeFromWhere, "CONSUME_FROM_TIMESTAMP");
  ASSERT_EQ(consumers.subscriptions.size(), 2u);
  EXPECT_EQ(consumers.subscriptions[1].topic, "B");
  EXPECT_EQ(consumers.subscriptions[1].expressionType, "SQL92");
  EXPECT_EQ(consumers.subscriptions[1].expression, "a > 3");
  EXPECT_EQ(consumers.inconsistencies, (std::vector<std::string>{"c2 subscribes B with 'a > 3', c1 does not"}));

  client().getConsumerConnectionList(consumers, "gone");
  EXPECT_EQ(consumers.code, 206);
  EXPECT_EQ(consumers.remark, "no consumer of gone is online");
  EXPECT_TRUE(consumers.connections.empty());

  wire::ProducerConnectionResponse producers;
  client().getProducerConnectionList(producers, "pg");
  EXPECT_EQ(producers.code, 0);
  ASSERT_EQ(producers.connections.size(), 1u);
  EXPECT_EQ(producers.connections[0].clientId, "p1");
  EXPECT_EQ(producers.connections[0].clientAddr, "10.0.0.7:6000");
  EXPECT_EQ(producers.connections[0].lastHeartbeatTimestamp, 3333);
  client().getProducerConnectionList(producers, "other");
  EXPECT_EQ(producers.code, 1);
  EXPECT_EQ(producers.remark, "no producer group other");
}

TEST_F(ClientFeatures, PullExpressionTypeDefaultsToTag) {
  std::vector<PullRequest> seen;
  api_.on_pull = [&](PullRequest request, Reply<PullResponse> reply) {
    seen.push_back(request);
    PullResponse response;
    response.status = Status(Code::kPullNotFound, "none");
    reply(std::move(response));
  };
  wire::PullRequest request;
  request.subscription = "a = 'x' AND b > 3";
  request.__set_expressionType("SQL92");
  wire::PullResponse response;
  client().pull(response, request);
  wire::PullRequest old_client;  // expressionType not sent
  client().pull(response, old_client);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].subscription, "a = 'x' AND b > 3");
  EXPECT_EQ(seen[0].expression_type, "SQL92");
  EXPECT_EQ(seen[1].subscription, "*");
  EXPECT_EQ(seen[1].expression_type, "TAG");
}

TEST_F(ClientFeatures, ClientVersionBelowOneIsRejectedAbsentIsAccepted) {
  int sends = 0, pulls = 0;
  std::vector<HeartbeatRequest> heartbeats;
  api_.on_send = [&](SendRequest, Reply<SendResponse> reply) {
    ++sends;
    reply(SendResponse{});
  };
  api_.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    ++pulls;
    reply(PullResponse{});
  };
  api_.on_heartbeat = [&](const HeartbeatRequest& r) {
    heartbeats.push_back(r);
    return Status::ok();
  };

  wire::SendResponse sent;
  wire::SendRequest send;
  send.messages.resize(1);
  send.__set_clientVersion(0);
  client().send(sent, send);
  EXPECT_EQ(sent.code, kVersionNotSupported);
  EXPECT_NE(sent.remark.find("send: clientVersion 0 is not supported"), std::string::npos) << sent.remark;
  EXPECT_NE(sent.remark.find(">= 1"), std::string::npos) << sent.remark;
  send.__set_clientVersion(1);
  client().send(sent, send);
  EXPECT_EQ(sent.code, 0) << sent.remark;
  send.__isset.clientVersion = false;  // an old client: no version at all
  client().send(sent, send);
  EXPECT_EQ(sent.code, 0) << sent.remark;
  send.__set_clientVersion(99);  // newer clients are accepted
  client().send(sent, send);
  EXPECT_EQ(sent.code, 0) << sent.remark;
  EXPECT_EQ(sends, 3);

  wire::PullRequest pull;
  pull.__set_clientVersion(-3);
  wire::PullResponse pulled;
  client().pull(pulled, pull);
  EXPECT_EQ(pulled.code, kVersionNotSupported);
  EXPECT_NE(pulled.remark.find("pull: clientVersion -3"), std::string::npos) << pulled.remark;
  pull.__set_clientVersion(1);
  client().pull(pulled, pull);
  EXPECT_EQ(pulled.code, 0) << pulled.remark;
  EXPECT_EQ(pulls, 1);

  wire::HeartbeatRequest hb;
  hb.clientId = "c";
  wire::BaseResponse base;
  hb.__set_clientVersion(0);
  client().heartbeat(base, hb);
  EXPECT_EQ(base.code, kVersionNotSupported);
  EXPECT_NE(base.remark.find("heartbeat: clientVersion 0"), std::string::npos) << base.remark;
  hb.__set_clientVersion(7);
  client().heartbeat(base, hb);
  EXPECT_EQ(base.code, 0);
  hb.__isset.clientVersion = false;
  client().heartbeat(base, hb);
  EXPECT_EQ(base.code, 0);
  ASSERT_EQ(heartbeats.size(), 2u);
  EXPECT_EQ(heartbeats[0].client_version, 7);
  EXPECT_EQ(heartbeats[1].client_version, 0);  // not sent
}

// A client on its own socket, to learn the local "ip:port" the server sees.
struct PlainClient {
  explicit PlainClient(uint16_t port) : socket(std::make_shared<apache::thrift::transport::TSocket>("127.0.0.1", port)) {
    socket->open();
    auto framed = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    client = std::make_unique<wire::BrokerServiceClient>(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(framed));
  }
  std::string local_address() const {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(socket->getSocketFD(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
    char ip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
  }
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::unique_ptr<wire::BrokerServiceClient> client;
};

TEST(HeartbeatPeer, EachConnectionsAddressArrivesInItsHeartbeats) {
  constexpr int kClients = 8;
  constexpr int kRounds = 50;
  FakeBrokerApi api;
  std::mutex mu;
  std::map<std::string, std::set<std::string>> addresses;  // client id -> client_addr values seen
  api.on_heartbeat = [&](const HeartbeatRequest& r) {
    std::lock_guard lock(mu);
    addresses[r.client_id].insert(r.client_addr);
    return Status::ok();
  };
  TransportOptions options;
  options.io_threads = 2;  // requests of different connections are dispatched concurrently
  TransportHarness harness(options);
  harness.serve_broker(api);

  std::vector<std::string> expected(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      PlainClient plain(harness.broker_port());
      expected[i] = plain.local_address();
      wire::HeartbeatRequest hb;
      hb.clientId = "client-" + std::to_string(i);
      wire::BaseResponse base;
      for (int round = 0; round < kRounds; ++round) plain.client->heartbeat(base, hb);
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(addresses.size(), static_cast<size_t>(kClients));
  for (int i = 0; i < kClients; ++i) {
    ASSERT_FALSE(expected[i].empty());
    EXPECT_EQ(addresses["client-" + std::to_string(i)], (std::set<std::string>{expected[i]})) << "client " << i;
  }
}

}  // namespace
}  // namespace mq::transport_thrift::testing
