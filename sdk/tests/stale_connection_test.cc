// ClientInstance against a real Thrift broker server that restarts on the same port: pooled
// connections to the old process are stale; idempotent calls reconnect and retry once without
// surfacing an error, while sends are never re-sent by the pool.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TTransportException.h>

#include "client_instance.h"

namespace mq::client {
namespace {

using apache::thrift::transport::TTransportException;

// Counts the calls that reached the server, across restarts.
struct Counters {
  std::atomic<int> heartbeats{0};
  std::atomic<int> sends{0};
  std::atomic<int> routes{0};
};

class BrokerHandler : public wire::BrokerServiceNull {
 public:
  explicit BrokerHandler(Counters& counters) : counters_(counters) {}
  void heartbeat(wire::BaseResponse& out, const wire::HeartbeatRequest&) override {
    ++counters_.heartbeats;
    out.code = 0;
  }
  void send(wire::SendResponse& out, const wire::SendRequest&) override {
    ++counters_.sends;
    out.code = 0;
  }

 private:
  Counters& counters_;
};

class NameServerHandler : public wire::NameServerServiceNull {
 public:
  explicit NameServerHandler(Counters& counters) : counters_(counters) {}
  void getRouteInfoByTopic(wire::TopicRouteResponse& out, const std::string&) override {
    ++counters_.routes;
    out.code = 0;
  }

 private:
  Counters& counters_;
};

int pick_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A framed-binary Thrift server for `processor` on a fixed loopback port; stop() closes every
// connection it accepted, as a process exit would.
class TestServer {
 public:
  TestServer(std::shared_ptr<apache::thrift::TProcessor> processor, int port) : processor_(std::move(processor)), port_(port) {}
  ~TestServer() { stop(); }

  void start() {
    auto socket = std::make_shared<apache::thrift::transport::TServerSocket>("127.0.0.1", port_);
    server_ = std::make_unique<apache::thrift::server::TThreadedServer>(
        processor_, socket, std::make_shared<apache::thrift::transport::TFramedTransportFactory>(),
        std::make_shared<apache::thrift::protocol::TBinaryProtocolFactory>());
    thread_ = std::thread([this] { server_->serve(); });
    for (int i = 0; i < 500 && !port_accepts(port_); ++i) ::usleep(10 * 1000);
  }

  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::shared_ptr<apache::thrift::TProcessor> processor_;
  int port_;
  std::unique_ptr<apache::thrift::server::TThreadedServer> server_;
  std::thread thread_;
};

std::shared_ptr<apache::thrift::TProcessor> broker_processor(Counters& counters) {
  return std::make_shared<wire::BrokerServiceProcessor>(std::make_shared<BrokerHandler>(counters));
}

Status heartbeat(ClientInstance& client, const std::string& addr) {
  wire::BaseResponse response;
  wire::HeartbeatRequest request;
  return client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.heartbeat(response, request); });
}

TEST(StaleConnection, IdempotentBrokerCallReconnectsAfterServerRestart) {
  Counters counters;
  TestServer server(broker_processor(counters), pick_port());
  server.start();
  ClientInstance client({}, wire::ChannelOptions{});
  // Both calls reuse one pooled channel, which goes stale with the restart.
  ASSERT_TRUE(heartbeat(client, server.address()).is_ok());
  ASSERT_TRUE(heartbeat(client, server.address()).is_ok());
  ASSERT_EQ(counters.heartbeats.load(), 2);

  server.stop();
  server.start();
  Status s = heartbeat(client, server.address());
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(counters.heartbeats.load(), 3);
  // The fresh connection went back to the pool: the next call uses it.
  s = heartbeat(client, server.address());
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(counters.heartbeats.load(), 4);
}

TEST(StaleConnection, SendIsNeverResentOnAStaleConnection) {
  Counters counters;
  TestServer server(broker_processor(counters), pick_port());
  server.start();
  ClientInstance client({}, wire::ChannelOptions{});
  wire::SendRequest request;
  wire::SendResponse response;
  auto send = [&] {
    return client.call_broker(
        server.address(), [&](wire::BrokerServiceClient& b) { b.send(response, request); }, CallRetry::kNever);
  };
  ASSERT_TRUE(send().is_ok());
  ASSERT_EQ(counters.sends.load(), 1);

  server.stop();
  server.start();
  Status s = send();
  EXPECT_FALSE(s.is_ok()) << "a send on a stale connection must surface the failure, not be re-sent";
  EXPECT_EQ(counters.sends.load(), 1);
  // The failed send dropped the stale pool: the producer's own retry goes through.
  s = send();
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(counters.sends.load(), 2);
}

TEST(StaleConnection, CallAgainstAStoppedServerStillFails) {
  Counters counters;
  TestServer server(broker_processor(counters), pick_port());
  server.start();
  ClientInstance client({}, wire::ChannelOptions{});
  ASSERT_TRUE(heartbeat(client, server.address()).is_ok());
  server.stop();
  Status s = heartbeat(client, server.address());
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), code::kRpcFailed) << s.to_string();
}

TEST(StaleConnection, NameServerQueryReconnectsAfterServerRestart) {
  Counters counters;
  auto processor = std::make_shared<wire::NameServerServiceProcessor>(std::make_shared<NameServerHandler>(counters));
  TestServer server(processor, pick_port());
  server.start();
  // A single name server: failover cannot hide the stale connection.
  ClientInstance client({server.address()}, wire::ChannelOptions{});
  wire::TopicRouteResponse route;
  ASSERT_TRUE(client.fetch_route("T", &route).is_ok());
  server.stop();
  server.start();
  Status s = client.fetch_route("T", &route);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(counters.routes.load(), 2);
}

TEST(StaleConnection, OnlyPeerFailuresCountAsStale) {
  EXPECT_TRUE(is_stale_connection_error(TTransportException(TTransportException::END_OF_FILE, "No more data to read.")));
  EXPECT_TRUE(is_stale_connection_error(TTransportException(TTransportException::NOT_OPEN, "Broken pipe")));
  EXPECT_FALSE(is_stale_connection_error(TTransportException(TTransportException::TIMED_OUT, "timed out")));
  EXPECT_FALSE(is_stale_connection_error(TTransportException(TTransportException::INTERRUPTED, "interrupted")));
  EXPECT_FALSE(is_stale_connection_error(std::runtime_error("application error")));
}

}  // namespace
}  // namespace mq::client
