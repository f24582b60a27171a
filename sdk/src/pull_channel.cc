// PullChannel: non-blocking connect with a timeout, then an interruptible Thrift socket.
#include "pull_channel.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TTransportException.h>

#include "mq/wire/budget_reset_transport.h"
#include "mq/wire/client_channel.h"

namespace mq::client {
namespace {

using apache::thrift::transport::TTransportException;

constexpr int kMaxFrameBytes = 64 << 20;

// Returns a connected, blocking TCP socket or throws naming the address.
int connect_socket(const std::string& address, int timeout_ms) {
  std::string host;
  int port = 0;
  if (!wire::split_address(address, &host, &port)) {
    throw TTransportException(TTransportException::NOT_OPEN, "malformed broker address '" + address + "'");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) {
    throw TTransportException(TTransportException::NOT_OPEN,
                              "cannot resolve " + address + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int ready = ::poll(&p, 1, timeout_ms);
        if (ready == 0) {
          err = ETIMEDOUT;
        } else if (ready < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof(err);
          if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (err == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      ::freeaddrinfo(list);
      return fd;
    }
    last_error = std::strerror(err);
    ::close(fd);
  }
  ::freeaddrinfo(list);
  throw TTransportException(TTransportException::NOT_OPEN, "cannot connect to " + address + ": " + last_error);
}

}  // namespace

Interrupter::Interrupter() {
  if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
}

Interrupter::~Interrupter() {
  ::close(fds_[0]);
  ::close(fds_[1]);
}

void Interrupter::fire() {
  if (fired_.exchange(true)) return;
  char byte = 1;
  // The byte is never read: the read end stays readable, so every later read is interrupted too.
  while (::write(fds_[1], &byte, 1) < 0 && errno == EINTR) {
  }
}

std::unique_ptr<PullChannel> PullChannel::connect(const std::string& address, int connect_timeout_ms,
                                                  int recv_timeout_ms, const Interrupter& interrupter) {
  int fd = connect_socket(address, connect_timeout_ms);
  auto config = std::make_shared<apache::thrift::TConfiguration>(kMaxFrameBytes, kMaxFrameBytes);
  auto listener = std::make_shared<THRIFT_SOCKET>(interrupter.read_fd());
  // The socket owns fd from here on (closed by its destructor).
  auto socket = std::make_shared<wire::BudgetResetSocket>(fd, listener, config);
  socket->setRecvTimeout(recv_timeout_ms);
  socket->setSendTimeout(recv_timeout_ms);
  socket->setNoDelay(true);
  auto framed = std::make_shared<wire::BudgetResetFramedTransport>(socket, config);
  auto protocol = std::make_shared<apache::thrift::protocol::TBinaryProtocol>(framed);
  std::unique_ptr<PullChannel> channel(new PullChannel());
  channel->address_ = address;
  channel->socket_ = socket;
  channel->broker_ = std::make_unique<wire::BrokerServiceClient>(protocol);
  return channel;
}

PullChannel::~PullChannel() {
  try {
    if (socket_) socket_->close();
  } catch (const std::exception&) {
    // A destructor must not throw; the socket is gone either way.
  }
}

}  // namespace mq::client
