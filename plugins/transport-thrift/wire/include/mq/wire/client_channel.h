// ClientChannel: one client connection to a broker or name server, framed binary Thrift,
// with Thrift 0.17's per-transport message-size budget reset after every message (without
// that, a long-lived connection dies after ~100 MB received; see docs/architecture.md).
#pragma once

#include <memory>
#include <string>

#include "BrokerService.h"
#include "NameServerService.h"

namespace mq::wire {

struct ChannelOptions {
  int connect_timeout_ms = 3000;
  int recv_timeout_ms = 30000;  // must exceed the longest long-poll hold (15 s default)
  int send_timeout_ms = 30000;
  int64_t max_frame_bytes = 64LL << 20;
  // Pipelined calls leave together: a call's request waits in memory until the channel must
  // receive (a reply not yet read), 64 KiB wait, or flush_writes() (hiredis's pipelining;
  // BudgetResetSocket). For callers that read every reply or call flush_writes(); calls of
  // send-only methods (oneway) are otherwise delivered only with a later read.
  bool coalesce_writes = false;
};

class BudgetResetSocket;

// Not thread-safe: one request at a time per channel (pool channels for concurrency).
// Every method may throw apache::thrift::TException (transport errors, timeouts).
class ClientChannel {
 public:
  // Connects to "host:port". Throws TTransportException naming the address on failure.
  static std::unique_ptr<ClientChannel> connect(const std::string& address, const ChannelOptions& options = {});
  ~ClientChannel();
  ClientChannel(const ClientChannel&) = delete;
  ClientChannel& operator=(const ClientChannel&) = delete;

  BrokerServiceClient& broker() { return *broker_; }
  NameServerServiceClient& name_server() { return *name_server_; }
  const std::string& address() const { return address_; }
  bool is_open() const;
  // Sends the requests held by coalesce_writes now. Throws as a failed call does.
  void flush_writes();
  // Drops requests held by coalesce_writes (not sent).
  void close();

 private:
  ClientChannel() = default;
  std::string address_;
  std::shared_ptr<BudgetResetSocket> socket_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<BrokerServiceClient> broker_;
  std::unique_ptr<NameServerServiceClient> name_server_;
};

// Splits "host:port"; returns false (and leaves outputs untouched) if malformed.
bool split_address(const std::string& address, std::string* host, int* port);

}  // namespace mq::wire
