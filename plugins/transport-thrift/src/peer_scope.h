// The peer a handler call is serving: a thread-local that FrameServer sets around each
// (synchronous) call into the generated processor, read by handlers such as heartbeat.
#pragma once

#include <string>

namespace mq::transport_thrift {

// "ip:port" of the connection whose request is being dispatched on this thread; empty
// outside a dispatch or when the address is unknown. Valid only during the synchronous part
// of a handler call (the generated processor calls the handler inside process()): copy it
// before handing work to another thread.
const std::string& current_peer();

// Sets current_peer() for its lifetime and restores the previous value (nesting-safe).
// `peer` must outlive the scope. Each io thread dispatches one request at a time, so
// concurrent connections never see each other's peer.
class PeerScope {
 public:
  explicit PeerScope(const std::string& peer);
  ~PeerScope();
  PeerScope(const PeerScope&) = delete;
  PeerScope& operator=(const PeerScope&) = delete;

 private:
  const std::string* previous_;
};

}  // namespace mq::transport_thrift
