// Thrift 0.17's 100 MB per-transport message budget: the pitfall on stock transports, the
// fix on the same setups, and more than 1 GB through ONE ClientChannel in each direction.
#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>
#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TTransportException.h>

#include "mq/wire/budget_reset_transport.h"
#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;
using apache::thrift::transport::TTransportException;

constexpr int kSmallBudget = 1 << 20;    // 1 MiB per message
constexpr int kMessages = 64;
constexpr size_t kBodyBytes = 64 * 1024;  // 64 x 64 KiB = 4 MiB: 4x the budget

// Writes kMessages framed messages, each one binary field of kBodyBytes, into `fd`.
std::thread start_writer(int fd) {
  return std::thread([fd] {
    auto socket = std::make_shared<TSocket>(fd);
    auto framed = std::make_shared<TFramedTransport>(socket);
    TBinaryProtocol protocol(framed);
    std::string body(kBodyBytes, 'z');
    try {
      for (int i = 0; i < kMessages; ++i) {
        protocol.writeMessageBegin("m", apache::thrift::protocol::T_CALL, i);
        protocol.writeBinary(body);
        protocol.writeMessageEnd();
        framed->flush();
      }
    } catch (const TTransportException&) {
      // The reader gave up (the plain stack case); nothing more to write.
    }
    socket->close();
  });
}

// Reads messages the way generated code does (readEnd() after each). Returns how many
// were read before the transport threw, and the error text.
std::pair<int, std::string> read_all(TTransport& framed, TBinaryProtocol& protocol) {
  for (int i = 0; i < kMessages; ++i) {
    try {
      std::string name, body;
      apache::thrift::protocol::TMessageType type;
      int32_t seqid = 0;
      protocol.readMessageBegin(name, type, seqid);
      protocol.readBinary(body);
      protocol.readMessageEnd();
      framed.readEnd();
      if (body.size() != kBodyBytes || seqid != i) return {i, "corrupt message"};
    } catch (const TTransportException& e) {
      return {i, e.what()};
    }
  }
  return {kMessages, ""};
}

TEST(MessageBudget, PlainFramedTransportExhaustsTheBudget) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto config = std::make_shared<TConfiguration>(kSmallBudget);
  auto socket = std::make_shared<TSocket>(fds[0], config);
  auto framed = std::make_shared<TFramedTransport>(socket, config);
  TBinaryProtocol protocol(framed);
  std::thread writer = start_writer(fds[1]);
  auto [read, error] = read_all(*framed, protocol);
  socket->close();
  writer.join();
  // Each message fits the budget, yet the connection dies once their sum exceeds it.
  EXPECT_LT(read, kMessages);
  EXPECT_LE(static_cast<size_t>(read) * kBodyBytes, static_cast<size_t>(kSmallBudget));
  EXPECT_EQ(error, "MaxMessageSize reached");
}

TEST(MessageBudget, BudgetResetFramedTransportKeepsGoing) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto config = std::make_shared<TConfiguration>(kSmallBudget);
  auto socket = std::make_shared<wire::BudgetResetSocket>(fds[0], config);
  auto framed = std::make_shared<wire::BudgetResetFramedTransport>(socket, config);
  TBinaryProtocol protocol(framed);
  std::thread writer = start_writer(fds[1]);
  auto [read, error] = read_all(*framed, protocol);
  socket->close();
  writer.join();
  EXPECT_EQ(read, kMessages) << error;
}

// ~1 MiB per call; 1100 calls = 1.07 GiB > 1 GB, ten times Thrift's default budget.
constexpr size_t kBigBody = 1 << 20;
constexpr int kCalls = 1100;

class GigabyteThroughOneConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    body_.assign(kBigBody, '\0');
    for (size_t i = 0; i < body_.size(); i += 4096) body_[i] = static_cast<char>(i / 4096);
    harness_.serve_broker(api_);
  }
  std::string body_;
  FakeBrokerApi api_;
  TransportHarness harness_;
};

TEST_F(GigabyteThroughOneConnection, ClientToServer) {
  std::atomic<uint64_t> received{0};
  std::atomic<int> mismatches{0};
  api_.on_send = [&](SendRequest request, Reply<SendResponse> reply) {
    const std::string& got = request.messages.at(0).body;
    received += got.size();
    if (got != body_) ++mismatches;
    SendResponse response;
    response.results.push_back({"", "", QueueOffset(static_cast<int64_t>(received.load()))});
    reply(std::move(response));
  };
  auto channel = harness_.connect_broker();
  wire::SendRequest request;  // reused: only the body is big
  request.topic = "Big";
  request.messages.resize(1);
  request.messages[0].body = body_;
  wire::SendResponse response;
  for (int i = 0; i < kCalls; ++i) {
    channel->broker().send(response, request);
    ASSERT_EQ(response.code, 0) << "call " << i << ": " << response.remark;
  }
  EXPECT_EQ(received.load(), static_cast<uint64_t>(kCalls) * kBigBody);
  EXPECT_GT(received.load(), 1000ull * 1000 * 1000);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(GigabyteThroughOneConnection, ServerToClient) {
  StoredMessage message;
  message.topic = "Big";
  message.body = body_;
  api_.on_pull = [&](PullRequest request, Reply<PullResponse> reply) {
    PullResponse response;
    response.next_begin_offset = request.queue_offset + 1;
    response.messages.push_back(message);
    reply(std::move(response));
  };
  auto channel = harness_.connect_broker();
  wire::PullRequest request;
  wire::PullResponse response;
  uint64_t received = 0;
  for (int i = 0; i < kCalls; ++i) {
    request.queueOffset = i;
    channel->broker().pull(response, request);
    ASSERT_EQ(response.messages.size(), 1u) << "call " << i;
    ASSERT_EQ(response.nextBeginOffset, i + 1);
    received += response.messages[0].body.size();
  }
  EXPECT_EQ(response.messages[0].body, body_);
  EXPECT_EQ(received, static_cast<uint64_t>(kCalls) * kBigBody);
  EXPECT_GT(received, 1000ull * 1000 * 1000);
}

// Evidence against the real server. Thrift 0.17's TFramedTransport::flush() happens to reset
// the budget, so a stack that reads and writes through ONE framed object (like ClientChannel)
// is spared as long as it writes between reads. Stacks that read through their own
// transport object -- the layout TTransportFactory gives TThreadedServer and friends, or any
// reader of a one-way stream -- never flush it and die after ~100 MB on the same connection.
// Here: the stock transports in that layout, the default 100 MB budget, 1 MiB pull replies.
TEST_F(GigabyteThroughOneConnection, StockReadSideTransportDiesAfterAbout100MB) {
  StoredMessage message;
  message.body = body_;
  api_.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    PullResponse response;
    response.messages.push_back(message);
    reply(std::move(response));
  };
  auto socket = std::make_shared<TSocket>("127.0.0.1", harness_.broker_port());
  socket->open();
  auto input = std::make_shared<TFramedTransport>(socket);
  auto output = std::make_shared<TFramedTransport>(socket);
  wire::BrokerServiceClient client(std::make_shared<TBinaryProtocol>(input), std::make_shared<TBinaryProtocol>(output));
  int completed = 0;
  std::string error;
  try {
    for (; completed < 300; ++completed) {
      wire::PullResponse response;
      client.pull(response, wire::PullRequest());
    }
  } catch (const TTransportException& e) {
    error = e.what();
  }
  EXPECT_EQ(error, "MaxMessageSize reached");
  EXPECT_GE(completed, 90);
  EXPECT_LE(completed, 100);
}

// The same layout with the budget-resetting transports survives well past 100 MB.
TEST_F(GigabyteThroughOneConnection, BudgetResetReadSideTransportSurvives) {
  StoredMessage message;
  message.body = body_;
  api_.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    PullResponse response;
    response.messages.push_back(message);
    reply(std::move(response));
  };
  auto config = std::make_shared<TConfiguration>();
  auto socket = std::make_shared<wire::BudgetResetSocket>("127.0.0.1", harness_.broker_port(), config);
  socket->open();
  auto input = std::make_shared<wire::BudgetResetFramedTransport>(socket, config);
  auto output = std::make_shared<TFramedTransport>(socket);
  wire::BrokerServiceClient client(std::make_shared<TBinaryProtocol>(input), std::make_shared<TBinaryProtocol>(output));
  for (int i = 0; i < 250; ++i) {
    wire::PullResponse response;
    client.pull(response, wire::PullRequest());
    ASSERT_EQ(response.messages.at(0).body.size(), kBigBody) << "call " << i;
  }
}

}  // namespace
}  // namespace mq::transport_thrift::testing
