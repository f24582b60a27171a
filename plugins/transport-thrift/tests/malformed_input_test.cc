// Malformed input: garbage inside a valid frame, bad arguments, unknown methods,
// truncated frames, zero/negative/oversized lengths and the connection limit. The server
// must answer (or close) the offending connection and keep serving everyone else.
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TProtocol.h>

#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

using apache::thrift::TApplicationException;
using apache::thrift::protocol::T_EXCEPTION;
using apache::thrift::protocol::T_REPLY;

class MalformedInput : public ::testing::Test {
 protected:
  static TransportOptions options() {
    TransportOptions o;
    o.max_frame_size = 64 * 1024;
    return o;
  }
  void SetUp() override {
    api_.on_topics = [] { return std::vector<TopicConfig>{{"T", 1, 1, 6}}; };
    harness_.serve_broker(api_);
  }
  // A normal client still gets served.
  void expect_server_healthy() {
    auto channel = harness_.connect_broker();
    wire::TopicListResponse topics;
    channel->broker().getTopicList(topics);
    ASSERT_EQ(topics.topics.size(), 1u);
    EXPECT_EQ(topics.topics[0].topicName, "T");
  }
  // Expects one exception reply naming `needle`, then the server closing the connection.
  void expect_error_then_close(RawSocket& socket, const std::string& needle) {
    auto payload = socket.read_frame();
    ASSERT_TRUE(payload.has_value()) << "connection closed without an error reply";
    DecodedReply reply = decode_reply(*payload);
    EXPECT_EQ(reply.type, T_EXCEPTION);
    EXPECT_EQ(reply.exception_type, TApplicationException::PROTOCOL_ERROR);
    EXPECT_NE(reply.exception_message.find(needle), std::string::npos) << reply.exception_message;
    EXPECT_TRUE(socket.at_eof());
  }

  FakeBrokerApi api_;
  TransportHarness harness_{options()};
};

TEST_F(MalformedInput, GarbageFrameGetsErrorReplyAndClose) {
  std::mt19937 rng(12345);
  std::string garbage(1000, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  garbage[0] = 0x12;  // not the strict binary-protocol version byte (0x80)
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(frame(garbage));
  expect_error_then_close(socket, "undecodable Thrift message");
  expect_server_healthy();
}

TEST_F(MalformedInput, UndecodableArgumentsGetErrorWithSeqidAndConnectionStaysOpen) {
  RawSocket socket(harness_.broker_port());
  // A valid "send" header followed by a field header claiming a huge string.
  std::string args("\x0C\x00\x01" "\x0B\x00\x01" "\x7F\xFF\xFF\xFF", 10);
  socket.send_bytes(frame(call_message("send", 77, args)));
  auto payload = socket.read_frame();
  ASSERT_TRUE(payload.has_value());
  DecodedReply reply = decode_reply(*payload);
  EXPECT_EQ(reply.type, T_EXCEPTION);
  EXPECT_EQ(reply.name, "send");
  EXPECT_EQ(reply.seqid, 77);
  EXPECT_EQ(reply.exception_type, TApplicationException::PROTOCOL_ERROR);

  // Framing is intact, so the same connection keeps working.
  socket.send_bytes(frame(call_message("getTopicList", 78)));
  payload = socket.read_frame();
  ASSERT_TRUE(payload.has_value());
  reply = decode_reply(*payload);
  EXPECT_EQ(reply.type, T_REPLY);
  EXPECT_EQ(reply.name, "getTopicList");
  EXPECT_EQ(reply.seqid, 78);
}

TEST_F(MalformedInput, UnknownMethodGetsUnknownMethodError) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(frame(call_message("dropAllTopics", 5)));
  auto payload = socket.read_frame();
  ASSERT_TRUE(payload.has_value());
  DecodedReply reply = decode_reply(*payload);
  EXPECT_EQ(reply.type, T_EXCEPTION);
  EXPECT_EQ(reply.seqid, 5);
  EXPECT_EQ(reply.exception_type, TApplicationException::UNKNOWN_METHOD);
  EXPECT_NE(reply.exception_message.find("dropAllTopics"), std::string::npos);
  expect_server_healthy();
}

TEST_F(MalformedInput, TruncatedFrameJustCloses) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(length_prefix(100) + std::string(10, 'x'));
  socket.shutdown_write();
  EXPECT_TRUE(socket.at_eof());  // no reply, the server closed its side
  expect_server_healthy();
}

TEST_F(MalformedInput, TruncatedHeaderJustCloses) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(std::string("\x00\x00", 2));
  socket.shutdown_write();
  EXPECT_TRUE(socket.at_eof());
  expect_server_healthy();
}

TEST_F(MalformedInput, ZeroLengthIsRejected) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(length_prefix(0));
  expect_error_then_close(socket, "frame length 0 is outside 1..65536");
  expect_server_healthy();
}

TEST_F(MalformedInput, NegativeLengthIsRejected) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(length_prefix(-16));
  expect_error_then_close(socket, "frame length -16 is outside 1..65536");
  expect_server_healthy();
}

TEST_F(MalformedInput, OversizedLengthIsRejectedNamingSizeAndLimit) {
  RawSocket socket(harness_.broker_port());
  socket.send_bytes(length_prefix(1 << 20) + std::string(1000, 'x'));
  expect_error_then_close(socket, "frame length 1048576 is outside 1..65536 bytes (transport-thrift.maxFrameSize)");
  expect_server_healthy();
}

TEST_F(MalformedInput, OversizedSendThroughClientChannelFailsCleanly) {
  auto channel = harness_.connect_broker();
  wire::SendRequest request;
  wire::Message m;
  m.body.assign(100 * 1024, 'b');
  request.messages = {m};
  wire::SendResponse response;
  try {
    channel->broker().send(response, request);
    FAIL() << "an oversized send must fail";
  } catch (const TApplicationException& e) {
    EXPECT_NE(std::string(e.what()).find("maxFrameSize"), std::string::npos) << e.what();
  }
  expect_server_healthy();
}

// A batch whose messages each fit but whose total exceeds the frame limit: the client gets
// the limit's name, the broker never sees a partial batch, the server keeps serving.
TEST_F(MalformedInput, BatchOverFrameLimitFailsCleanlyForTheClient) {
  int sends = 0;
  api_.on_send = [&](SendRequest, Reply<SendResponse> reply) {
    ++sends;
    reply(SendResponse{});
  };
  auto channel = harness_.connect_broker();
  wire::SendRequest request;
  request.topic = "T";
  wire::Message m;
  m.topic = "T";
  m.body.assign(10 * 1024, 'b');  // 10 KiB each, 10 of them: ~100 KiB > 64 KiB
  request.messages.assign(10, m);
  wire::SendResponse response;
  try {
    channel->broker().send(response, request);
    FAIL() << "a batch over maxFrameSize must fail";
  } catch (const TApplicationException& e) {
    EXPECT_NE(std::string(e.what()).find("is outside 1..65536 bytes (transport-thrift.maxFrameSize)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(sends, 0);
  // The same batch cut to fit goes through on a new connection.
  request.messages.resize(5);
  auto again = harness_.connect_broker();
  again->broker().send(response, request);
  EXPECT_EQ(response.code, 0) << response.remark;
  EXPECT_EQ(sends, 1);
  expect_server_healthy();
}

TEST(ConnectionLimit, ExcessConnectionsGetAClearErrorAndAreClosed) {
  FakeBrokerApi api;
  api.on_topics = [] { return std::vector<TopicConfig>{}; };
  TransportOptions options;
  options.max_connections = 3;
  TransportHarness harness(options);
  harness.serve_broker(api);

  std::vector<std::unique_ptr<wire::ClientChannel>> channels;
  for (int i = 0; i < 3; ++i) {
    channels.push_back(harness.connect_broker());
    wire::TopicListResponse topics;
    channels.back()->broker().getTopicList(topics);  // accepted and registered
  }
  const std::string needle = "3 connections are open, the limit is transport-thrift.maxConnections=3";
  {
    RawSocket excess(harness.broker_port());
    excess.send_bytes(frame(call_message("getTopicList", 1)));
    auto payload = excess.read_frame();
    ASSERT_TRUE(payload.has_value()) << "the 4th connection must get an error reply";
    DecodedReply reply = decode_reply(*payload);
    EXPECT_EQ(reply.type, T_EXCEPTION);
    EXPECT_NE(reply.exception_message.find(needle), std::string::npos) << reply.exception_message;
    EXPECT_TRUE(excess.at_eof()) << "then be closed";
  }
  // What a generated client sees: its call throws the server's reason.
  auto refused = harness.connect_broker();
  try {
    wire::TopicListResponse topics;
    refused->broker().getTopicList(topics);
    FAIL() << "a call over the connection limit must fail";
  } catch (const TApplicationException& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  refused.reset();
  // The served connections are unaffected.
  for (auto& channel : channels) {
    wire::TopicListResponse topics;
    channel->broker().getTopicList(topics);
  }

  // Closing one frees a slot (the server notices the close asynchronously).
  channels.front()->close();
  channels.erase(channels.begin());
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    try {
      auto channel = harness.connect_broker();
      wire::TopicListResponse topics;
      channel->broker().getTopicList(topics);
      served = true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace mq::transport_thrift::testing
