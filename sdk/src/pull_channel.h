// PullChannel: a broker connection for one puller whose blocking call (a long-polling pull
// held by the broker for up to the suspend timeout) can be interrupted from another thread,
// so dropping a queue or shutting down does not wait for the hold to end.
// It uses the same budget-resetting framed transport as mq::wire::ClientChannel, over a
// socket created with a Thrift "interrupt listener": once the Interrupter fires, every read
// on the channel fails at once with TTransportException(INTERRUPTED).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <thrift/transport/TSocket.h>

#include "BrokerService.h"

namespace mq::client {

// A pipe whose read end becomes readable, for good, when fire() is called. Thread-safe.
class Interrupter {
 public:
  Interrupter();  // throws std::system_error if no pipe can be created
  ~Interrupter();
  Interrupter(const Interrupter&) = delete;
  Interrupter& operator=(const Interrupter&) = delete;
  void fire();
  bool fired() const { return fired_.load(); }
  int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
  std::atomic<bool> fired_{false};
};

class PullChannel {
 public:
  // Connects to "host:port"; throws TTransportException naming the address on failure.
  // The interrupter must outlive the channel.
  static std::unique_ptr<PullChannel> connect(const std::string& address, int connect_timeout_ms, int recv_timeout_ms,
                                              const Interrupter& interrupter);
  ~PullChannel();
  PullChannel(const PullChannel&) = delete;
  PullChannel& operator=(const PullChannel&) = delete;

  wire::BrokerServiceClient& broker() { return *broker_; }
  const std::string& address() const { return address_; }

 private:
  PullChannel() = default;
  std::string address_;
  std::shared_ptr<apache::thrift::transport::TSocket> socket_;
  std::unique_ptr<wire::BrokerServiceClient> broker_;
};

}  // namespace mq::client
