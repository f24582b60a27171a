// PullChannel: a pull held by a silent peer is aborted at once by the Interrupter.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/transport/TTransportException.h>

#include "pull_channel.h"

namespace mq::client {
namespace {

// A loopback listener on an ephemeral port that accepts connections and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(PullChannel, InterrupterAbortsAHeldCall) {
  SilentServer server;
  Interrupter interrupter;
  auto channel = PullChannel::connect(server.address(), 2000, 60000, interrupter);
  ASSERT_EQ(channel->address(), server.address());
  auto result = std::async(std::launch::async, [&] {
    wire::PullResponse response;
    wire::PullRequest request;
    try {
      channel->broker().pull(response, request);  // the peer never answers
    } catch (const apache::thrift::transport::TTransportException& e) {
      return e.getType();
    }
    return apache::thrift::transport::TTransportException::UNKNOWN;
  });
  // The call is still blocked: the receive timeout is 60 s.
  EXPECT_EQ(result.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  interrupter.fire();
  EXPECT_EQ(result.get(), apache::thrift::transport::TTransportException::INTERRUPTED);
  EXPECT_TRUE(interrupter.fired());
}

TEST(PullChannel, ConnectFailureNamesTheAddress) {
  Interrupter interrupter;
  try {
    PullChannel::connect("127.0.0.1:1", 1000, 1000, interrupter);
    FAIL() << "connect to a closed port succeeded";
  } catch (const apache::thrift::transport::TTransportException& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos);
  }
  EXPECT_THROW(PullChannel::connect("no-port", 1000, 1000, interrupter), apache::thrift::transport::TTransportException);
}

}  // namespace
}  // namespace mq::client
