// Shared helpers for the transport tests: a quiet logger, a running transport with one
// server, and a raw blocking socket for speaking malformed frames.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include "fake_apis.h"
#include "mq/wire/client_channel.h"
#include "thrift_transport.h"

namespace mq::transport_thrift::testing {

// A logger with its own sink (never registered globally); warnings go to stderr so test
// logs show what the server said about bad input.
std::shared_ptr<spdlog::logger> test_logger();

// n bytes that differ from seed to seed and do not repeat every 256 bytes, so a piece sent
// out of place or shifted shows in a comparison.
std::string byte_pattern(size_t n, char seed);

// Starts a ThriftTransport serving `broker` (and `name_server`) on 127.0.0.1:0.
class TransportHarness {
 public:
  explicit TransportHarness(TransportOptions options = {});
  ~TransportHarness();
  void serve_broker(BrokerApi& api);
  void serve_name_server(NameServerApi& api);
  uint16_t broker_port() const { return broker_->port(); }
  uint16_t name_server_port() const { return name_server_->port(); }
  std::string broker_address() const { return "127.0.0.1:" + std::to_string(broker_port()); }
  std::string name_server_address() const { return "127.0.0.1:" + std::to_string(name_server_port()); }
  std::unique_ptr<wire::ClientChannel> connect_broker(wire::ChannelOptions options = {}) const;
  ThriftTransport& transport() { return *transport_; }
  Server& broker_server() { return *broker_; }

 private:
  std::unique_ptr<ThriftTransport> transport_;
  std::unique_ptr<Server> broker_;
  std::unique_ptr<Server> name_server_;
};

// A blocking loopback socket with a receive timeout (so a hung server fails the test).
class RawSocket {
 public:
  explicit RawSocket(uint16_t port, int timeout_ms = 5000);
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  void send_bytes(const std::string& bytes);
  // Disables Nagle, so that each send_bytes() leaves as its own segment.
  void set_no_delay();
  void shutdown_write();
  // One reply frame's payload; nullopt on an orderly close (EOF) before any byte.
  std::optional<std::string> read_frame();
  // True if the peer closed (EOF or reset) with no further data.
  bool at_eof();

 private:
  bool read_exact(char* out, size_t n);  // false on EOF before the first byte
  int fd_ = -1;
};

// 4-byte big-endian length prefix + payload.
std::string frame(const std::string& payload);
std::string length_prefix(int32_t length);

// A Thrift call message (strict binary), e.g. getTopicList with no arguments.
std::string call_message(const std::string& method, int32_t seqid,
                         const std::string& args_struct = std::string(1, '\0'));

struct DecodedReply {
  std::string name;
  int32_t seqid = 0;
  int type = 0;             // apache::thrift::protocol::TMessageType
  int exception_type = -1;  // TApplicationException type when type == T_EXCEPTION
  std::string exception_message;
};
DecodedReply decode_reply(const std::string& payload);

}  // namespace mq::transport_thrift::testing
