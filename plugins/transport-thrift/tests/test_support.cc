// Test helpers (see test_support.h).
#include "test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/sinks/stdout_sinks.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

namespace mq::transport_thrift::testing {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TMemoryBuffer;

std::string byte_pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 13 + i / 251);
  return s;
}

std::shared_ptr<spdlog::logger> test_logger() {
  auto logger = std::make_shared<spdlog::logger>("transport-test", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(spdlog::level::warn);
  return logger;
}

TransportHarness::TransportHarness(TransportOptions options)
    : transport_(std::make_unique<ThriftTransport>(options, test_logger())) {
  transport_->start();
}

TransportHarness::~TransportHarness() {
  broker_.reset();
  name_server_.reset();
  transport_->stop();
}

void TransportHarness::serve_broker(BrokerApi& api) {
  auto server = transport_->serve_broker(api, "127.0.0.1", 0);
  if (!server) throw std::runtime_error(server.status().to_string());
  broker_ = std::move(server).value();
}

void TransportHarness::serve_name_server(NameServerApi& api) {
  auto server = transport_->serve_name_server(api, "127.0.0.1", 0);
  if (!server) throw std::runtime_error(server.status().to_string());
  name_server_ = std::move(server).value();
}

std::unique_ptr<wire::ClientChannel> TransportHarness::connect_broker(wire::ChannelOptions options) const {
  return wire::ClientChannel::connect(broker_address(), options);
}

RawSocket::RawSocket(uint16_t port, int timeout_ms) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
  }
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void RawSocket::send_bytes(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
}

void RawSocket::set_no_delay() {
  int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

void RawSocket::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

bool RawSocket::read_exact(char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd_, out + got, n - got, 0);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) {
      if (got == 0) return false;
      throw std::runtime_error("connection closed inside a frame");
    }
    if (r < 0) throw std::runtime_error(std::string("recv failed (timeout?): ") + std::strerror(errno));
    got += static_cast<size_t>(r);
  }
  return true;
}

std::optional<std::string> RawSocket::read_frame() {
  char header[4];
  if (!read_exact(header, 4)) return std::nullopt;
  uint32_t length = 0;
  std::memcpy(&length, header, 4);
  length = ntohl(length);
  std::string payload(length, '\0');
  if (length > 0 && !read_exact(payload.data(), length)) throw std::runtime_error("EOF inside a frame");
  return payload;
}

bool RawSocket::at_eof() {
  char c;
  ssize_t r = ::recv(fd_, &c, 1, 0);
  if (r == 0) return true;
  if (r < 0 && errno == ECONNRESET) return true;
  if (r < 0) throw std::runtime_error(std::string("recv failed (timeout?): ") + std::strerror(errno));
  return false;
}

std::string length_prefix(int32_t length) {
  uint32_t be = htonl(static_cast<uint32_t>(length));
  return std::string(reinterpret_cast<const char*>(&be), 4);
}

std::string frame(const std::string& payload) {
  return length_prefix(static_cast<int32_t>(payload.size())) + payload;
}

std::string call_message(const std::string& method, int32_t seqid, const std::string& args_struct) {
  auto buffer = std::make_shared<TMemoryBuffer>();
  TBinaryProtocol protocol(buffer);
  protocol.writeMessageBegin(method, apache::thrift::protocol::T_CALL, seqid);
  protocol.getTransport()->write(reinterpret_cast<const uint8_t*>(args_struct.data()),
                                 static_cast<uint32_t>(args_struct.size()));
  protocol.writeMessageEnd();
  return buffer->getBufferAsString();
}

DecodedReply decode_reply(const std::string& payload) {
  auto buffer = std::make_shared<TMemoryBuffer>(reinterpret_cast<uint8_t*>(const_cast<char*>(payload.data())),
                                                static_cast<uint32_t>(payload.size()));
  TBinaryProtocol protocol(buffer);
  DecodedReply out;
  apache::thrift::protocol::TMessageType type;
  protocol.readMessageBegin(out.name, type, out.seqid);
  out.type = type;
  if (type == apache::thrift::protocol::T_EXCEPTION) {
    apache::thrift::TApplicationException x;
    x.read(&protocol);
    out.exception_type = x.getType();
    out.exception_message = x.what();
  }
  return out;
}

}  // namespace mq::transport_thrift::testing
