// End-to-end bad input: a real mqbroker answers every malformed request with a clear code
// and remark, keeps serving, and never touches what is already stored.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "mq/wire/client_channel.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

constexpr int32_t kSuccess = 0;
constexpr int32_t kMessageIllegal = 13;
constexpr int32_t kTopicNotExist = 17;
constexpr int32_t kPullNotFound = 19;
constexpr int32_t kPullOffsetMoved = 21;

wire::SendRequest make_send(const std::string& topic, const std::string& body, int32_t queue_id = 0) {
  wire::Message msg;
  msg.topic = topic;
  msg.body = body;
  msg.properties["TAGS"] = "TagA";
  wire::SendRequest req;
  req.producerGroup = "bad-input-producer";
  req.topic = topic;
  req.queueId = queue_id;
  req.messages.push_back(msg);
  req.bornTimestamp = 1;
  req.bornHost = "127.0.0.1:1";
  return req;
}

// suspend_ms > 0 long-polls: dispatch to the consume queue is asynchronous, so a message is
// visible to pulls shortly after its send was acknowledged, not necessarily at once.
wire::PullRequest make_pull(const std::string& topic, int32_t queue_id, int64_t offset, int64_t suspend_ms = 0) {
  wire::PullRequest req;
  req.consumerGroup = "bad-input-consumer";
  req.topic = topic;
  req.queueId = queue_id;
  req.queueOffset = offset;
  req.suspendTimeoutMs = suspend_ms;
  return req;
}

// Sends raw bytes on a fresh TCP connection, then reads until the peer closes or 2 s pass.
std::string raw_exchange(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  ::shutdown(fd, SHUT_WR);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return reply;
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.global["autoCreateTopicEnable"] = "false";
    options.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(16 << 20);
    broker_ = std::make_unique<BrokerProcess>(dir_.path(), options);
    broker_->start();
    channel_ = wire::ClientChannel::connect(broker_->broker_addr());
    wire::TopicConfig topic;
    topic.topicName = "Known";
    topic.readQueueNums = 2;
    topic.writeQueueNums = 2;
    wire::BaseResponse created;
    channel_->broker().createTopic(created, topic);
    ASSERT_EQ(created.code, kSuccess) << created.remark;
    wire::SendResponse sent;
    channel_->broker().send(sent, make_send("Known", "the stored body"));
    ASSERT_EQ(sent.code, kSuccess) << sent.remark;
    expect_stored_message_intact();  // waits until it is dispatched
  }

  // The message stored in SetUp is still there, byte for byte.
  void expect_stored_message_intact() {
    auto channel = wire::ClientChannel::connect(broker_->broker_addr());
    wire::PullResponse pulled;
    channel->broker().pull(pulled, make_pull("Known", 0, 0, 5000));
    ASSERT_EQ(pulled.code, kSuccess) << pulled.remark;
    ASSERT_EQ(pulled.messages.size(), 1u);
    EXPECT_EQ(pulled.messages[0].body, "the stored body");
    EXPECT_EQ(pulled.messages[0].properties.at("TAGS"), "TagA");
  }

  TempDir dir_{"mqbadinput"};
  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<wire::ClientChannel> channel_;
};

TEST_F(BadInputTest, UnknownTopicWithoutAutoCreateIsRefusedWithRemark) {
  wire::SendResponse r;
  channel_->broker().send(r, make_send("NoSuchTopic", "x"));
  EXPECT_EQ(r.code, kTopicNotExist);
  EXPECT_NE(r.remark.find("NoSuchTopic"), std::string::npos) << r.remark;
  expect_stored_message_intact();
}

TEST_F(BadInputTest, EmptyBodyIsIllegal) {
  wire::SendResponse r;
  channel_->broker().send(r, make_send("Known", ""));
  EXPECT_EQ(r.code, kMessageIllegal);
  EXPECT_FALSE(r.remark.empty());
  expect_stored_message_intact();
}

TEST_F(BadInputTest, OversizedBodyIsIllegalAndNamesTheLimit) {
  wire::SendResponse r;
  channel_->broker().send(r, make_send("Known", std::string((4 << 20) + 1, 'x')));
  EXPECT_EQ(r.code, kMessageIllegal);
  EXPECT_NE(r.remark.find("4194304"), std::string::npos) << r.remark;
  expect_stored_message_intact();
}

TEST_F(BadInputTest, InvalidTopicNameIsRefused) {
  wire::SendResponse r;
  channel_->broker().send(r, make_send("bad topic!", "x"));
  EXPECT_NE(r.code, kSuccess);
  EXPECT_NE(r.remark.find("bad topic!"), std::string::npos) << r.remark;
  wire::SendResponse too_long;
  channel_->broker().send(too_long, make_send(std::string(200, 'a'), "x"));
  EXPECT_NE(too_long.code, kSuccess);
  expect_stored_message_intact();
}

TEST_F(BadInputTest, PullOutOfRangeSaysOffsetMovedWithTheValidRange) {
  wire::PullResponse r;
  channel_->broker().pull(r, make_pull("Known", 0, 1000));
  EXPECT_EQ(r.code, kPullOffsetMoved) << r.remark;
  EXPECT_EQ(r.nextBeginOffset, 1);
  EXPECT_EQ(r.maxOffset, 1);
  EXPECT_FALSE(r.remark.empty());
  wire::PullResponse at_end;
  channel_->broker().pull(at_end, make_pull("Known", 0, 1));
  EXPECT_EQ(at_end.code, kPullNotFound) << at_end.remark;
  expect_stored_message_intact();
}

TEST_F(BadInputTest, GarbageAndTruncatedFramesLeaveTheBrokerServing) {
  int port = std::stoi(broker_->broker_addr().substr(broker_->broker_addr().rfind(':') + 1));
  std::mt19937 rng(42);
  std::string garbage(200, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  raw_exchange(port, be32(static_cast<uint32_t>(garbage.size())) + garbage);  // garbage inside a frame
  raw_exchange(port, be32(1000) + std::string(10, 'x'));                      // truncated frame
  raw_exchange(port, be32(0x7FFFFFFF));                                       // absurd length
  raw_exchange(port, be32(0));                                                // empty frame
  raw_exchange(port, std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));       // wrong protocol
  EXPECT_TRUE(broker_->running());
  expect_stored_message_intact();
  wire::SendResponse r;
  channel_ = wire::ClientChannel::connect(broker_->broker_addr());
  channel_->broker().send(r, make_send("Known", "after the garbage"));
  EXPECT_EQ(r.code, kSuccess) << r.remark;
}

}  // namespace
}  // namespace mq::testing
