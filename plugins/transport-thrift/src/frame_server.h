// FrameServer: a Boost.Asio listener speaking framed binary Thrift. It reads length-prefixed
// frames, hands each to a generated asynchronous processor (TAsyncProcessor) and writes the
// framed reply whenever the processor's completion fires, so a held request pins no thread.
//
// Connections: each accepted connection is bound to one io_context of the IoPool (the io
// thread of the CPU its packets arrive on when the threads are pinned, else the least loaded:
// io_placement.h) and served by that context's single thread; it moves to another context
// only between two requests, to follow a peer on this machine to another CPU. One read
// takes whatever the socket holds into a per-connection buffer (64 KiB; 256 KiB once a read
// filled it; grown for a larger frame: read_buffer_policy.h); every complete frame in it is
// dispatched in arrival order on that thread, the replies completed meanwhile are written
// with one gathered write, and only then is the socket read again. Pipelined requests of one
// connection are therefore processed in order on its thread, not spread over the io threads:
// a handler never blocks (held requests complete later through their completion), so
// in-order processing costs no parallelism across connections and saves the cross-thread
// hand-offs and wake-ups that dominated the per-call cost; a single connection's requests
// use one core. Replies still go out in completion order (a held request is answered after
// later ones; clients match by seqid).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/logger.h>
#include <thrift/async/TAsyncProcessor.h>

#include "io_pool.h"
#include "mq/status.h"
#include "mq/transport.h"

namespace mq::transport_thrift {

struct FrameServerOptions {
  uint32_t max_frame_size = 16u << 20;  // largest accepted request frame (payload bytes)
  uint32_t max_connections = 10000;     // further connections get one error reply and are closed
  // Requests of one connection dispatched and not yet answered; at the limit the
  // connection reads no further frame until one completes.
  uint32_t max_inflight_per_connection = 256;
  // Reply bytes queued and not yet written on one connection; past it the connection is
  // closed (a peer that pipelines requests but does not read its replies).
  uint64_t max_pending_reply_bytes = 64ull << 20;
};

class ServerCore;  // the shared state behind a FrameServer (frame_server.cc)

// Threading: port() anywhere; stop() from any thread except an io thread of `pool`. The
// processor is called on the connection's io thread; its completions may run on any thread
// (those on another thread are posted to the connection's thread).
// Lifetime: the pool must be running while the server is served and outlive it.
class FrameServer final : public Server {
 public:
  // Binds host:port (port 0: ephemeral) and starts accepting. `kind` names the service in
  // log lines ("broker", "name server").
  static Result<std::unique_ptr<FrameServer>> listen(IoPool& pool,
                                                     std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
                                                     const std::string& host, uint16_t port,
                                                     const FrameServerOptions& options,
                                                     std::shared_ptr<spdlog::logger> logger, std::string kind);
  ~FrameServer() override;
  uint16_t port() const override;
  // Closes the acceptor and every connection, and waits until no request is being
  // dispatched into the processor; idempotent. Replies completed later are dropped.
  void stop() override;
  // For the owner of the pool, to stop servers its users forgot.
  std::weak_ptr<ServerCore> core() const { return core_; }

 private:
  explicit FrameServer(std::shared_ptr<ServerCore> core) : core_(std::move(core)) {}
  std::shared_ptr<ServerCore> core_;
};

// Stops a server through its core (no-op if it is gone or already stopped).
void stop_server_core(const std::weak_ptr<ServerCore>& core);

}  // namespace mq::transport_thrift
