// Round trip of every BrokerService / NameServerService method through a real server and
// ClientChannel, checking the wire <-> kernel conversion in both directions.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

const std::string kBinaryBody("\x00\x01zero\x00bytes\xff\x00", 14);

wire::Message wire_message(const std::string& topic, const std::string& body) {
  wire::Message m;
  m.topic = topic;
  m.flag = 7;
  m.properties = {{"TAGS", "TagA"}, {"KEYS", "k1 k2"}, {"UNIQ_KEY", "ID-1"}, {"user", std::string("v\0x", 3)}};
  m.body = body;
  return m;
}

class BrokerRoundTrip : public ::testing::Test {
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

// ChannelOptions::coalesce_writes: pipelined calls wait in the client until it reads a
// reply, then reach the broker together and are answered in order; a oneway call goes out
// with flush_writes().
TEST(CoalescingChannel, PipelinedCallsLeaveWhenTheFirstReplyIsReadAndAreAllAnswered) {
  FakeBrokerApi api;
  std::atomic<int> sends{0};
  api.on_send = [&](SendRequest request, Reply<SendResponse> reply) {
    const int n = sends.fetch_add(1);
    SendResponse response;
    response.queue_id = request.queue_id;
    response.results.push_back({"", std::string(request.messages.at(0).body), QueueOffset(n)});
    reply(std::move(response));
  };
  TransportHarness harness;
  harness.serve_broker(api);
  wire::ChannelOptions options;
  options.coalesce_writes = true;
  auto channel = harness.connect_broker(options);
  constexpr int kCalls = 40;
  for (int i = 0; i < kCalls; ++i) {
    wire::SendRequest request;
    request.topic = "TopicA";
    request.queueId = i % 4;
    request.messages = {wire_message("TopicA", "body-" + std::to_string(i))};
    channel->broker().send_send(request);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sends.load(), 0) << "requests left before the client read a reply";
  for (int i = 0; i < kCalls; ++i) {
    wire::SendResponse response;
    channel->broker().recv_send(response);
    ASSERT_EQ(response.code, 0) << response.remark;
    EXPECT_EQ(response.queueId, i % 4);
    ASSERT_EQ(response.results.size(), 1u);
    EXPECT_EQ(response.results[0].offsetMsgId, "body-" + std::to_string(i));  // in order
    EXPECT_EQ(response.results[0].queueOffset, i);
  }
  wire::SendRequest oneway;
  oneway.topic = "TopicA";
  oneway.messages = {wire_message("TopicA", "oneway")};
  channel->broker().sendOneway(oneway);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sends.load(), kCalls);  // held: no reply will come to send it
  channel->flush_writes();
  for (int i = 0; i < 200 && sends.load() == kCalls; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(sends.load(), kCalls + 1);
}

TEST_F(BrokerRoundTrip, SendConvertsRequestAndResponse) {
  SendRequest seen;
  api_.on_send = [&](SendRequest request, Reply<SendResponse> reply) {
    seen = request;
    SendResponse response;
    response.queue_id = 3;
    response.results.push_back({"ID-1", "0A0102030000115700000000000004D2", QueueOffset(42)});
    response.results.push_back({"", "X", QueueOffset(43)});
    reply(std::move(response));
  };
  wire::SendRequest request;
  request.producerGroup = "pg";
  request.topic = "TopicA";
  request.queueId = 2;
  request.messages = {wire_message("TopicA", kBinaryBody), wire_message("TopicA", "second")};
  request.bornTimestamp = 1700000000123;
  request.bornHost = "10.1.2.3:4567";
  request.sysFlag = 4;
  request.reconsumeTimes = 2;
  wire::SendResponse response;
  client().send(response, request);

  EXPECT_EQ(seen.producer_group, "pg");
  EXPECT_EQ(seen.topic, "TopicA");
  EXPECT_EQ(seen.queue_id, 2);
  EXPECT_EQ(seen.born_timestamp_ms, 1700000000123);
  EXPECT_EQ(seen.born_host, (HostAddress{0x0A010203, 4567}));
  EXPECT_EQ(seen.sys_flag, 4);
  EXPECT_EQ(seen.reconsume_times, 2);
  ASSERT_EQ(seen.messages.size(), 2u);
  EXPECT_EQ(seen.messages[0].topic, "TopicA");
  EXPECT_EQ(seen.messages[0].flag, 7);
  EXPECT_EQ(seen.messages[0].body, kBinaryBody);
  EXPECT_EQ(seen.messages[0].body.size(), 14u);
  EXPECT_EQ(seen.messages[0].tags(), "TagA");
  EXPECT_EQ(seen.messages[0].keys(), "k1 k2");
  EXPECT_EQ(seen.messages[0].property("user"), std::string_view("v\x00x", 3));
  EXPECT_EQ(seen.messages[1].body, "second");

  EXPECT_EQ(response.code, 0);
  EXPECT_EQ(response.queueId, 3);
  ASSERT_EQ(response.results.size(), 2u);
  EXPECT_EQ(response.results[0].msgId, "ID-1");
  EXPECT_EQ(response.results[0].offsetMsgId, "0A0102030000115700000000000004D2");
  EXPECT_EQ(response.results[0].queueOffset, 42);
  EXPECT_EQ(response.results[1].queueOffset, 43);
}

TEST_F(BrokerRoundTrip, SendErrorStatusBecomesCodeAndRemark) {
  api_.on_send = [](SendRequest, Reply<SendResponse> reply) {
    SendResponse response;
    response.status = Status(Code::kTopicNotExist, "topic 'Nope' does not exist");
    reply(std::move(response));
  };
  wire::SendRequest request;
  request.topic = "Nope";
  wire::SendResponse response;
  client().send(response, request);
  EXPECT_EQ(response.code, 17);
  EXPECT_EQ(response.remark, "topic 'Nope' does not exist");
}

TEST_F(BrokerRoundTrip, MalformedBornHostIsInvalidParameter) {
  bool called = false;
  api_.on_send = [&](SendRequest, Reply<SendResponse>) { called = true; };
  wire::SendRequest request;
  request.bornHost = "300.1.1.1:80";
  wire::SendResponse response;
  client().send(response, request);
  EXPECT_FALSE(called);
  EXPECT_EQ(response.code, static_cast<int32_t>(Code::kInvalidParameter));
  EXPECT_NE(response.remark.find("bornHost"), std::string::npos) << response.remark;
}

TEST_F(BrokerRoundTrip, HandlerExceptionBecomesSystemError) {
  api_.on_send = [](SendRequest, Reply<SendResponse>) { throw std::runtime_error("disk on fire"); };
  wire::SendResponse response;
  client().send(response, wire::SendRequest());
  EXPECT_EQ(response.code, 1);
  EXPECT_NE(response.remark.find("disk on fire"), std::string::npos) << response.remark;
  // The connection is still usable afterwards.
  api_.on_topics = [] { return std::vector<TopicConfig>{}; };
  wire::TopicListResponse topics;
  client().getTopicList(topics);
  EXPECT_EQ(topics.code, 0);
}

TEST_F(BrokerRoundTrip, SendOnewayReachesTheBroker) {
  std::mutex mu;
  std::condition_variable cv;
  std::string body;
  api_.on_send = [&](SendRequest request, Reply<SendResponse> reply) {
    {
      std::lock_guard lock(mu);
      body = request.messages.at(0).body;
    }
    cv.notify_all();
    reply(SendResponse{});
  };
  wire::SendRequest request;
  request.messages = {wire_message("T", kBinaryBody)};
  client().sendOneway(request);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !body.empty(); }));
  EXPECT_EQ(body, kBinaryBody);
  lock.unlock();
  // A oneway call produces no reply frame: the next call's reply is its own.
  api_.on_max_offset = [](const std::string&, QueueId) { return Result<QueueOffset>(QueueOffset(9)); };
  wire::OffsetResponse offset;
  client().getMaxOffset(offset, wire::QueueRef());
  EXPECT_EQ(offset.offset, 9);
}

TEST_F(BrokerRoundTrip, PullConvertsStoredMessages) {
  PullRequest seen;
  api_.on_pull = [&](PullRequest request, Reply<PullResponse> reply) {
    seen = request;
    PullResponse response;
    response.next_begin_offset = QueueOffset(11);
    response.min_offset = QueueOffset(1);
    response.max_offset = QueueOffset(20);
    StoredMessage m;
    m.topic = "TopicA";
    m.flag = 5;
    m.properties = {{"TAGS", "TagB"}, {"UNIQ_KEY", "U1"}};
    m.body = kBinaryBody;
    m.queue_id = 3;
    m.sys_flag = 8;
    m.born_timestamp_ms = 111;
    m.born_host = HostAddress{0x7F000001, 5555};
    m.store_host = HostAddress{0x0A000001, 10911};
    m.reconsume_times = 1;
    m.prepared_transaction_offset = CommitLogOffset(77);
    m.queue_offset = QueueOffset(10);
    m.commit_log_offset = CommitLogOffset(123456);
    m.store_timestamp_ms = 222;
    m.store_size = 300;
    m.body_crc = 0xDEADBEEF;
    response.messages.push_back(m);
    reply(std::move(response));
  };
  wire::PullRequest request;
  request.consumerGroup = "cg";
  request.topic = "TopicA";
  request.queueId = 3;
  request.queueOffset = 10;
  request.maxMsgs = 16;
  request.maxBytes = 1000;
  request.suspendTimeoutMs = 0;
  request.commitOffset = 9;
  request.subscription = "TagA || TagB";
  wire::PullResponse response;
  client().pull(response, request);

  EXPECT_EQ(seen.consumer_group, "cg");
  EXPECT_EQ(seen.topic, "TopicA");
  EXPECT_EQ(seen.queue_id, 3);
  EXPECT_EQ(seen.queue_offset, QueueOffset(10));
  EXPECT_EQ(seen.max_msgs, 16);
  EXPECT_EQ(seen.max_bytes, 1000);
  EXPECT_EQ(seen.suspend_timeout_ms, 0);
  EXPECT_EQ(seen.commit_offset, 9);
  EXPECT_EQ(seen.subscription, "TagA || TagB");

  EXPECT_EQ(response.code, 0);
  EXPECT_EQ(response.nextBeginOffset, 11);
  EXPECT_EQ(response.minOffset, 1);
  EXPECT_EQ(response.maxOffset, 20);
  ASSERT_EQ(response.messages.size(), 1u);
  const auto& m = response.messages[0];
  EXPECT_EQ(m.topic, "TopicA");
  EXPECT_EQ(m.flag, 5);
  EXPECT_EQ(m.properties.at("TAGS"), "TagB");
  EXPECT_EQ(m.body, kBinaryBody);
  EXPECT_EQ(m.queueId, 3);
  EXPECT_EQ(m.queueOffset, 10);
  EXPECT_EQ(m.commitLogOffset, 123456);
  EXPECT_EQ(m.sysFlag, 8);
  EXPECT_EQ(m.bornTimestamp, 111);
  EXPECT_EQ(m.bornHost, "127.0.0.1:5555");
  EXPECT_EQ(m.storeTimestamp, 222);
  EXPECT_EQ(m.storeHost, "10.0.0.1:10911");
  EXPECT_EQ(m.reconsumeTimes, 1);
  EXPECT_EQ(m.offsetMsgId, make_offset_msg_id(HostAddress{0x0A000001, 10911}, CommitLogOffset(123456)));
  EXPECT_EQ(m.storeSize, 300);
  EXPECT_EQ(static_cast<uint32_t>(m.bodyCrc), 0xDEADBEEFu);
  EXPECT_EQ(m.preparedTransactionOffset, 77);
}

TEST_F(BrokerRoundTrip, OffsetCalls) {
  std::string seen;
  api_.on_query_consumer_offset = [&](const std::string& g, const std::string& t, QueueId q) -> Result<int64_t> {
    seen = g + "/" + t + "/" + std::to_string(q);
    if (q == 0) return Status(Code::kQueryNotFound, "no offset for group g");
    return int64_t{55};
  };
  api_.on_update_consumer_offset = [&](const std::string& g, const std::string& t, QueueId q, int64_t o) {
    seen = g + "/" + t + "/" + std::to_string(q) + "=" + std::to_string(o);
    return Status::ok();
  };
  api_.on_min_offset = [](const std::string&, QueueId q) { return Result<QueueOffset>(QueueOffset(q * 10)); };
  api_.on_max_offset = [](const std::string& t, QueueId) -> Result<QueueOffset> {
    return Status(Code::kTopicNotExist, "no topic " + t);
  };
  api_.on_search_offset = [](const std::string&, QueueId q, int64_t ts) {
    return Result<QueueOffset>(QueueOffset(ts + q));
  };

  wire::ConsumerOffsetRequest request;
  request.consumerGroup = "g";
  request.topic = "T";
  request.queueId = 1;
  wire::OffsetResponse offset;
  client().queryConsumerOffset(offset, request);
  EXPECT_EQ(seen, "g/T/1");
  EXPECT_EQ(offset.code, 0);
  EXPECT_EQ(offset.offset, 55);

  request.queueId = 0;
  client().queryConsumerOffset(offset, request);
  EXPECT_EQ(offset.code, 22);
  EXPECT_EQ(offset.remark, "no offset for group g");

  request.queueId = 2;
  request.offset = 99;
  wire::BaseResponse base;
  client().updateConsumerOffset(base, request);
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(seen, "g/T/2=99");

  wire::QueueRef queue;
  queue.topic = "T";
  queue.queueId = 3;
  client().getMinOffset(offset, queue);
  EXPECT_EQ(offset.code, 0);
  EXPECT_EQ(offset.offset, 30);
  client().getMaxOffset(offset, queue);
  EXPECT_EQ(offset.code, 17);
  EXPECT_EQ(offset.remark, "no topic T");

  wire::SearchOffsetRequest search;
  search.topic = "T";
  search.queueId = 2;
  search.timestamp = 1000;
  client().searchOffsetByTimestamp(offset, search);
  EXPECT_EQ(offset.code, 0);
  EXPECT_EQ(offset.offset, 1002);
}

TEST_F(BrokerRoundTrip, ClientCalls) {
  HeartbeatRequest seen;
  api_.on_heartbeat = [&](const HeartbeatRequest& r) {
    seen = r;
    return Status::ok();
  };
  std::string unregistered;
  api_.on_unregister_client = [&](const std::string& id) {
    unregistered = id;
    return Status(Code::kSystemBusy, "busy");
  };
  api_.on_consumer_ids = [](const std::string& g) -> Result<std::vector<std::string>> {
    if (g == "none") return Status(Code::kConsumerNotOnline, "nobody in none");
    return std::vector<std::string>{"c1@" + g, "c2@" + g};
  };

  wire::HeartbeatRequest hb;
  hb.clientId = "client-1";
  hb.producerGroups = {"pg1", "pg2"};
  wire::ConsumerData consumer;
  consumer.groupName = "cg";
  consumer.consumeType = "PULL";
  consumer.messageModel = "BROADCASTING";
  consumer.consumeFromWhere = "CONSUME_FROM_FIRST_OFFSET";
  wire::SubscriptionData sub;
  sub.topic = "T";
  sub.expression = "A || B";
  consumer.subscriptions = {sub};
  hb.consumers = {consumer};
  wire::BaseResponse base;
  client().heartbeat(base, hb);
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(seen.client_id, "client-1");
  EXPECT_EQ(seen.producer_groups, (std::vector<std::string>{"pg1", "pg2"}));
  ASSERT_EQ(seen.consumers.size(), 1u);
  EXPECT_EQ(seen.consumers[0].group, "cg");
  EXPECT_EQ(seen.consumers[0].consume_type, ConsumeType::kPull);
  EXPECT_EQ(seen.consumers[0].message_model, MessageModel::kBroadcasting);
  EXPECT_EQ(seen.consumers[0].consume_from_where, ConsumeFromWhere::kFirstOffset);
  EXPECT_EQ(seen.consumers[0].subscriptions, (std::vector<SubscriptionData>{{"T", "TAG", "A || B"}}));

  hb.consumers[0].consumeType = "SOMETIMES";
  client().heartbeat(base, hb);
  EXPECT_EQ(base.code, static_cast<int32_t>(Code::kInvalidParameter));
  EXPECT_NE(base.remark.find("SOMETIMES"), std::string::npos) << base.remark;

  client().unregisterClient(base, "client-9");
  EXPECT_EQ(unregistered, "client-9");
  EXPECT_EQ(base.code, 2);
  EXPECT_EQ(base.remark, "busy");

  wire::ConsumerListResponse list;
  client().getConsumerList(list, "cg");
  EXPECT_EQ(list.code, 0);
  EXPECT_EQ(list.consumerIds, (std::vector<std::string>{"c1@cg", "c2@cg"}));
  client().getConsumerList(list, "none");
  EXPECT_EQ(list.code, 206);
  EXPECT_EQ(list.remark, "nobody in none");
}

TEST_F(BrokerRoundTrip, AdminCalls) {
  TopicConfig created;
  api_.on_create_topic = [&](const TopicConfig& c) {
    created = c;
    return Status::ok();
  };
  api_.on_topics = [] { return std::vector<TopicConfig>{{"A", 8, 4, kPermRead}, {"B", 1, 2, 6}}; };
  std::string stats_args;
  api_.on_consume_stats = [&](const std::string& g, const std::string& t) {
    stats_args = g + "/" + t;
    return Result<std::vector<QueueConsumeStat>>(std::vector<QueueConsumeStat>{
        {"A", "broker-a", 1, QueueOffset(100), 90}, {"A", "broker-a", 2, QueueOffset(5), -1}});
  };
  api_.on_runtime_info = [] { return std::map<std::string, std::string>{{"msgPutTotal", "12"}, {"version", "0.1"}}; };

  wire::TopicConfig config;
  config.topicName = "New";
  config.readQueueNums = 2;
  config.writeQueueNums = 3;
  config.perm = 4;
  wire::BaseResponse base;
  client().createTopic(base, config);
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(created, (TopicConfig{"New", 2, 3, 4}));

  wire::TopicListResponse topics;
  client().getTopicList(topics);
  ASSERT_EQ(topics.topics.size(), 2u);
  EXPECT_EQ(topics.topics[0].topicName, "A");
  EXPECT_EQ(topics.topics[0].readQueueNums, 8);
  EXPECT_EQ(topics.topics[0].writeQueueNums, 4);
  EXPECT_EQ(topics.topics[0].perm, kPermRead);
  EXPECT_EQ(topics.topics[1].topicName, "B");

  wire::ConsumeStatsResponse stats;
  client().getConsumeStats(stats, "cg", "A");
  EXPECT_EQ(stats_args, "cg/A");
  EXPECT_EQ(stats.code, 0);
  ASSERT_EQ(stats.queues.size(), 2u);
  EXPECT_EQ(stats.queues[0].brokerName, "broker-a");
  EXPECT_EQ(stats.queues[0].queueId, 1);
  EXPECT_EQ(stats.queues[0].brokerOffset, 100);
  EXPECT_EQ(stats.queues[0].consumerOffset, 90);
  EXPECT_EQ(stats.queues[1].consumerOffset, -1);

  wire::RuntimeInfoResponse info;
  client().getBrokerRuntimeInfo(info);
  EXPECT_EQ(info.code, 0);
  EXPECT_EQ(info.info.at("msgPutTotal"), "12");
  EXPECT_EQ(info.info.size(), 2u);
}

class NameServerRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    harness_.serve_name_server(api_);
    channel_ = wire::ClientChannel::connect(harness_.name_server_address());
  }
  wire::NameServerServiceClient& client() { return channel_->name_server(); }

  FakeNameServerApi api_;
  TransportHarness harness_;
  std::unique_ptr<wire::ClientChannel> channel_;
};

TEST_F(NameServerRoundTrip, RegisterAndUnregister) {
  BrokerRegistration seen;
  api_.on_register = [&](const BrokerRegistration& r) {
    seen = r;
    return Status::ok();
  };
  std::string unregistered;
  api_.on_unregister = [&](const std::string& c, const std::string& b, int64_t id, const std::string& a) {
    unregistered = c + "/" + b + "/" + std::to_string(id) + "/" + a;
    return Status(Code::kBrokerNotExist, "unknown broker " + b);
  };
  wire::RegisterBrokerRequest request;
  request.clusterName = "DefaultCluster";
  request.brokerName = "broker-a";
  request.brokerId = 1;
  request.brokerAddr = "127.0.0.1:10911";
  wire::TopicConfig topic;
  topic.topicName = "T";
  topic.readQueueNums = 8;
  request.topics = {topic};
  request.heartbeatTimeoutMs = 30000;
  wire::BaseResponse base;
  client().registerBroker(base, request);
  EXPECT_EQ(base.code, 0);
  EXPECT_EQ(seen.cluster_name, "DefaultCluster");
  EXPECT_EQ(seen.broker_name, "broker-a");
  EXPECT_EQ(seen.broker_id, 1);
  EXPECT_EQ(seen.broker_addr, "127.0.0.1:10911");
  EXPECT_EQ(seen.topics, (std::vector<TopicConfig>{{"T", 8, 4, 6}}));
  EXPECT_EQ(seen.heartbeat_timeout_ms, 30000);

  wire::UnregisterBrokerRequest unregister;
  unregister.clusterName = "C";
  unregister.brokerName = "b";
  unregister.brokerId = 2;
  unregister.brokerAddr = "h:1";
  client().unregisterBroker(base, unregister);
  EXPECT_EQ(unregistered, "C/b/2/h:1");
  EXPECT_EQ(base.code, 211);
  EXPECT_EQ(base.remark, "unknown broker b");
}

TEST_F(NameServerRoundTrip, RoutesClusterAndTopics) {
  api_.on_route = [](const std::string& topic) -> Result<TopicRoute> {
    if (topic != "T") return Status(Code::kTopicNotExist, "no route for " + topic);
    TopicRoute route;
    route.queues = {{"broker-a", 4, 4, 6}, {"broker-b", 2, 1, 4}};
    route.brokers = {{"C", "broker-a", {{0, "1.2.3.4:10911"}, {1, "1.2.3.5:10911"}}, {}}};
    return route;
  };
  api_.on_cluster_info = [] {
    ClusterInfo info;
    info.brokers["broker-a"] = {"C", "broker-a", {{0, "1.2.3.4:10911"}}, {{0, "SYNC_MASTER"}}};
    info.clusters["C"] = {"broker-a"};
    return info;
  };
  api_.on_topics = [] { return std::vector<std::string>{"T", "U"}; };

  wire::TopicRouteResponse route;
  client().getRouteInfoByTopic(route, "T");
  EXPECT_EQ(route.code, 0);
  ASSERT_EQ(route.queues.size(), 2u);
  EXPECT_EQ(route.queues[1].brokerName, "broker-b");
  EXPECT_EQ(route.queues[1].readQueueNums, 2);
  EXPECT_EQ(route.queues[1].writeQueueNums, 1);
  EXPECT_EQ(route.queues[1].perm, 4);
  ASSERT_EQ(route.brokers.size(), 1u);
  EXPECT_EQ(route.brokers[0].cluster, "C");
  EXPECT_EQ(route.brokers[0].brokerAddrs.at(1), "1.2.3.5:10911");

  client().getRouteInfoByTopic(route, "X");
  EXPECT_EQ(route.code, 17);
  EXPECT_EQ(route.remark, "no route for X");

  wire::ClusterInfoResponse cluster;
  client().getClusterInfo(cluster);
  EXPECT_EQ(cluster.code, 0);
  EXPECT_EQ(cluster.brokers.at("broker-a").brokerAddrs.at(0), "1.2.3.4:10911");
  EXPECT_EQ(cluster.clusters.at("C"), (std::vector<std::string>{"broker-a"}));

  wire::NameListResponse names;
  client().getAllTopicList(names);
  EXPECT_EQ(names.names, (std::vector<std::string>{"T", "U"}));
}

TEST(NameServerClient, RegistersThroughTransportAndReconnects) {
  FakeNameServerApi api;
  std::atomic<int> registrations{0};
  api.on_register = [&](const BrokerRegistration& r) {
    EXPECT_EQ(r.broker_name, "broker-a");
    ++registrations;
    return Status::ok();
  };
  api.on_unregister = [](const std::string&, const std::string& b, int64_t, const std::string&) {
    return Status(Code::kBrokerNotExist, "unknown " + b);
  };
  auto first = std::make_unique<TransportHarness>();
  first->serve_name_server(api);
  std::string address = first->name_server_address();
  uint16_t port = first->name_server_port();
  TransportHarness other;  // owns the client and, later, the replacement server
  auto client = other.transport().name_server_client(address);
  BrokerRegistration registration;
  registration.broker_name = "broker-a";
  EXPECT_TRUE(client->register_broker(registration).is_ok());
  Status unregistered = client->unregister_broker("C", "broker-x", 0, "h:1");
  EXPECT_EQ(unregistered.code(), Code::kBrokerNotExist);
  EXPECT_EQ(unregistered.message(), "unknown broker-x");

  // The server goes away: the call fails with a status naming the address.
  first.reset();
  Status failed = client->register_broker(registration);
  EXPECT_EQ(failed.code(), Code::kSystemError);
  EXPECT_NE(failed.message().find(address), std::string::npos) << failed.message();

  // A server on the same port again: the client reconnects by itself.
  auto replacement = other.transport().serve_name_server(api, "127.0.0.1", port);
  ASSERT_TRUE(replacement.is_ok()) << replacement.status().to_string();
  EXPECT_TRUE(client->register_broker(registration).is_ok());
  EXPECT_EQ(registrations.load(), 2);
}

TEST(NameServerClient, MalformedAddressIsReported) {
  TransportHarness harness;
  auto client = harness.transport().name_server_client("no-port-here");
  Status st = client->register_broker(BrokerRegistration{});
  EXPECT_EQ(st.code(), Code::kSystemError);
  EXPECT_NE(st.message().find("no-port-here"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace mq::transport_thrift::testing
