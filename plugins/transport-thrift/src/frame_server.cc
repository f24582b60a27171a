// FrameServer: acceptor, per-connection frame reader, dispatch into the Thrift processor,
// and a per-connection write queue. See frame_server.h for the contract.
#include "frame_server.h"

#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <thrift/TApplicationException.h>
#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "peer_scope.h"

// Threading: every connection's socket, queue and flags live on that connection's strand;
// a connection's only in-flight request is processed on its strand right after it was read
// (no hand-off); further requests arriving while one is in flight are posted to any io thread,
// so requests of one connection may be processed concurrently and answered out of order
// (clients match replies by seqid); replies are posted back onto the strand from whatever
// thread completes them. The server's connection set and counters are guarded by mu_.
namespace mq::transport_thrift {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using apache::thrift::TApplicationException;
using apache::thrift::TConfiguration;
using apache::thrift::protocol::TMessageType;
using apache::thrift::transport::TMemoryBuffer;
using Protocol = apache::thrift::protocol::TBinaryProtocolT<TMemoryBuffer>;

namespace {

constexpr uint32_t kHeaderBytes = 4;
// Upper bound on any list/map/set element count in a request. Thrift's own size check only
// bounds count * min-encoded-size by the frame size, which would still let a 16 MiB frame
// make the decoder allocate gigabytes of structs. RocketMQ batches stay far below this.
constexpr int32_t kMaxContainerElements = 100000;
// How long a connection being closed after an error reply may linger to flush it.
constexpr auto kLinger = std::chrono::seconds(2);
// Connections over maxConnections still open only to flush their refusal; more are closed
// without a word, so a connection flood cannot pin sockets through refusals.
constexpr size_t kMaxRefusing = 64;

// Bytes ready to be written; `owner` keeps them alive until the write completes.
struct OutFrame {
  std::shared_ptr<void> owner;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Patches the 4-byte big-endian length into a buffer that starts with a placeholder.
OutFrame finish_frame(std::shared_ptr<void> owner, TMemoryBuffer& buffer) {
  uint8_t* data = nullptr;
  uint32_t size = 0;
  buffer.getBuffer(&data, &size);
  uint32_t length = htonl(size - kHeaderBytes);
  std::memcpy(data, &length, kHeaderBytes);
  return OutFrame{std::move(owner), data, size};
}

void write_placeholder(TMemoryBuffer& buffer) {
  const uint8_t zero[kHeaderBytes] = {0, 0, 0, 0};
  buffer.write(zero, kHeaderBytes);
}

OutFrame exception_frame(const std::string& name, int32_t seqid,
                         TApplicationException::TApplicationExceptionType type, const std::string& message) {
  auto buffer = std::make_shared<TMemoryBuffer>(256);
  write_placeholder(*buffer);
  Protocol protocol(buffer);
  protocol.writeMessageBegin(name, apache::thrift::protocol::T_EXCEPTION, seqid);
  TApplicationException(type, message).write(&protocol);
  protocol.writeMessageEnd();
  return finish_frame(buffer, *buffer);
}

// One request frame and the Thrift objects that decode it and encode its reply. Shared by
// the dispatching io thread, the processor's completion (any thread) and the write queue.
// Fresh TMemoryBuffers per request are also the server side of the 0.17 message-size budget
// fix: no Thrift transport object outlives one message, so no budget can leak across them.
struct Request {
  std::unique_ptr<uint8_t[]> payload;
  uint32_t size = 0;
  std::shared_ptr<TMemoryBuffer> in;
  std::shared_ptr<TMemoryBuffer> out;
  std::shared_ptr<Protocol> in_protocol;
  std::shared_ptr<Protocol> out_protocol;
};

// What a pending reply needs after its request was dispatched. The generated processor binds
// its own raw `this` into the completion, so every completion holds the processor alive
// through this scope -- but not the ServerCore (acceptor, io objects), because a kernel may
// complete a held request after the server is gone.
struct RequestScope {
  std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor;
  std::shared_ptr<spdlog::logger> logger;
  std::string kind;
};

}  // namespace

class Connection;

// One dispatched request's slot in its connection's in-flight count. release() (at most
// once, from any thread; also run by the destructor so that a request whose completion is
// dropped unanswered still frees its slot) tells the connection the request is done.
class InflightToken {
 public:
  explicit InflightToken(std::weak_ptr<Connection> connection) : connection_(std::move(connection)) {}
  ~InflightToken() { release(); }
  InflightToken(const InflightToken&) = delete;
  InflightToken& operator=(const InflightToken&) = delete;
  void release();

 private:
  std::weak_ptr<Connection> connection_;
  std::atomic<bool> released_{false};
};

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(IoPool& pool, std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
             const FrameServerOptions& options, std::shared_ptr<spdlog::logger> logger, std::string kind)
      : pool_(pool),
        acceptor_(asio::make_strand(pool.context())),
        accept_retry_(acceptor_.get_executor()),
        scope_(std::make_shared<RequestScope>(RequestScope{std::move(processor), logger, kind})),
        options_(options),
        // A frame is one message: the per-message budget must admit the largest frame.
        config_(std::make_shared<TConfiguration>(
            std::max<int>(+TConfiguration::DEFAULT_MAX_MESSAGE_SIZE, static_cast<int>(options.max_frame_size)),
            static_cast<int>(options.max_frame_size))),
        logger_(std::move(logger)),
        kind_(std::move(kind)) {}

  Status listen(const std::string& host, uint16_t port);
  void start_accept();
  void stop();
  uint16_t port() const { return port_; }

  // Brackets a call into the processor; false once stop() has begun.
  bool enter() {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    ++in_flight_;
    return true;
  }
  void leave() {
    std::lock_guard lock(mu_);
    if (--in_flight_ == 0) cv_.notify_all();
  }
  void remove(Connection* connection);

  const FrameServerOptions& options() const { return options_; }
  const std::shared_ptr<TConfiguration>& config() const { return config_; }
  apache::thrift::async::TAsyncProcessor& processor() { return *scope_->processor; }
  const std::shared_ptr<RequestScope>& scope() const { return scope_; }
  spdlog::logger& log() { return *logger_; }
  const std::string& kind() const { return kind_; }
  asio::io_context& context() { return pool_.context(); }

 private:
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);

  IoPool& pool_;
  tcp::acceptor acceptor_;  // on its own strand
  asio::steady_timer accept_retry_;
  std::shared_ptr<RequestScope> scope_;
  FrameServerOptions options_;
  std::shared_ptr<TConfiguration> config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string kind_;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;  // guarded by mu_
  bool stopping_ = false;                                                      // guarded by mu_
  bool stopped_ = false;                                                       // guarded by mu_
  bool acceptor_closed_ = false;                                               // guarded by mu_
  int in_flight_ = 0;                                                          // guarded by mu_
  size_t refusing_ = 0;  // guarded by mu_; connections_ entries only flushing a refusal
};

// One accepted socket. Owned by the server's set while open and by pending handlers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `refused`: over the connection limit; refuse() is called instead of start().
  Connection(tcp::socket socket, std::shared_ptr<ServerCore> server, bool refused)
      : socket_(std::move(socket)), server_(std::move(server)), linger_(socket_.get_executor()), refused_(refused) {
    boost::system::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) peer_address_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    peer_ = ec ? std::string("unknown peer") : peer_address_;
    socket_.set_option(tcp::no_delay(true), ec);
  }

  const std::string& peer() const { return peer_; }
  bool refused() const { return refused_; }

  // Answers the connection with one exception frame carrying `reason` (what the client's
  // next call throws), then closes it like any error reply: flush, FIN, drain or linger.
  void refuse(std::string reason) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), reason = std::move(reason)] {
      if (self->closed_) return;
      self->enqueue(exception_frame("", 0, TApplicationException::INTERNAL_ERROR, reason));
      self->begin_closing();
      self->write_next();
    });
  }

  void start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // From any thread: closes the socket on the strand.
  void post_close() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
  }

  // Strand only (or when no io thread runs). Idempotent.
  void close_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    linger_.cancel();
    queue_.clear();
    queued_bytes_ = 0;
    server_->remove(this);
  }

  // From any thread: queues a reply; with close_after the connection reads no more
  // requests and closes once the frame is flushed (or after kLinger).
  void send(OutFrame frame, bool close_after) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), frame = std::move(frame), close_after]() mutable {
      if (self->closed_ || self->closing_) return;
      self->enqueue(std::move(frame));
      const uint64_t limit = self->server_->options().max_pending_reply_bytes;
      // One frame alone may exceed the limit (it is written as soon as the queue drains).
      if (self->queued_bytes_ > limit && self->queue_.size() > 1) {
        self->server_->log().warn(
            "{} connection from {}: {} reply bytes in {} frames are waiting to be written, more than "
            "transport-thrift.maxPendingReplyBytes={}; closing (the peer sends requests but does not read replies)",
            self->server_->kind(), self->peer_, self->queued_bytes_, self->queue_.size(), limit);
        return self->close_now();
      }
      if (close_after) self->begin_closing();
      if (!self->writing_) self->write_next();
    });
  }

  // Decodes and processes one request frame; runs on any io thread. `token` is released
  // once the request's reply is queued (or it has none).
  void dispatch(const std::shared_ptr<Request>& request, const std::shared_ptr<InflightToken>& token);

  // From any thread: one dispatched request is finished; resumes reading if it was paused
  // at transport-thrift.maxInflightPerConnection.
  void request_done() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      --self->in_flight_;
      if (self->paused_ && self->in_flight_ < self->server_->options().max_inflight_per_connection) {
        self->paused_ = false;
        self->read_header();
      }
    });
  }

 private:
  void enqueue(OutFrame frame) {
    queued_bytes_ += frame.size;
    queue_.push_back(std::move(frame));
  }

  void read_header() {
    if (closed_ || closing_) return;
    reading_ = true;
    asio::async_read(socket_, asio::buffer(header_, kHeaderBytes),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t bytes) {
                       self->on_header(ec, bytes);
                     });
  }

  void on_header(const boost::system::error_code& ec, size_t bytes) {
    reading_ = false;
    if (closed_) return;  // e.g. closed for unread replies while this read was pending
    if (closing_) return drain();
    if (ec) {
      if (ec != asio::error::operation_aborted && bytes > 0) {
        server_->log().warn("{} connection from {}: peer closed inside a frame header ({} of 4 bytes); closing",
                            server_->kind(), peer_, bytes);
      }
      return close_now();
    }
    uint32_t raw = 0;
    std::memcpy(&raw, header_, kHeaderBytes);
    auto length = static_cast<int32_t>(ntohl(raw));
    uint32_t limit = server_->options().max_frame_size;
    if (length <= 0 || static_cast<uint32_t>(length) > limit) {
      std::string reason = "frame length " + std::to_string(length) + " is outside 1.." + std::to_string(limit) +
                           " bytes (transport-thrift.maxFrameSize)";
      server_->log().warn("{} connection from {}: {}; closing", server_->kind(), peer_, reason);
      enqueue(exception_frame("", 0, TApplicationException::PROTOCOL_ERROR, reason));
      begin_closing();
      if (!writing_) write_next();
      return;
    }
    auto request = std::make_shared<Request>();
    request->size = static_cast<uint32_t>(length);
    request->payload = std::make_unique_for_overwrite<uint8_t[]>(request->size);
    reading_ = true;
    asio::async_read(socket_, asio::buffer(request->payload.get(), request->size),
                     [self = shared_from_this(), request](const boost::system::error_code& ec, size_t bytes) {
                       self->on_payload(ec, bytes, request);
                     });
  }

  void on_payload(const boost::system::error_code& ec, size_t bytes, const std::shared_ptr<Request>& request) {
    reading_ = false;
    if (closed_) return;
    if (closing_) return drain();
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        server_->log().warn("{} connection from {}: truncated frame ({} of {} bytes, {}); closing", server_->kind(),
                            peer_, bytes, request->size, ec.message());
      }
      return close_now();
    }
    // The connection's only request (a client waiting for each reply) is processed right here
    // on the strand: no hand-off to another io thread. With requests already in flight
    // (pipelining) it is posted, so one connection's requests may be processed concurrently.
    const bool inline_dispatch = in_flight_ == 0;
    ++in_flight_;
    auto token = std::make_shared<InflightToken>(weak_from_this());
    if (!inline_dispatch) {
      asio::post(server_->context(), [self = shared_from_this(), request, token] { self->dispatch(request, token); });
    }
    if (in_flight_ < server_->options().max_inflight_per_connection) {
      read_header();
      if (inline_dispatch) dispatch(request, token);
    } else {
      paused_ = true;  // request_done() reads on
      server_->log().debug("{} connection from {}: {} requests in flight (transport-thrift.maxInflightPerConnection); "
                           "pausing reads",
                           server_->kind(), peer_, in_flight_);
      if (inline_dispatch) dispatch(request, token);
    }
  }

  void write_next() {
    writing_ = true;
    const OutFrame& frame = queue_.front();
    asio::async_write(socket_, asio::buffer(frame.data, frame.size),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->on_written(ec);
                      });
  }

  void on_written(const boost::system::error_code& ec) {
    if (closed_) return;
    queued_bytes_ -= queue_.front().size;
    queue_.pop_front();
    if (ec) {
      server_->log().debug("{} connection from {}: write failed: {}", server_->kind(), peer_, ec.message());
      return close_now();
    }
    if (!queue_.empty()) return write_next();
    writing_ = false;
    if (closing_) {
      // Everything is flushed: send FIN, then wait for the peer's (drain) or the linger timer.
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      if (!reading_) drain();
    }
  }

  void begin_closing() {
    closing_ = true;
    linger_.expires_after(kLinger);
    linger_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close_now();
    });
  }

  // Discards input until the peer closes, so that closing never resets the connection
  // before the peer has read our last reply.
  void drain() {
    if (closed_ || reading_) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                              size_t) {
      self->reading_ = false;
      if (ec) return self->close_now();
      self->drain();
    });
  }

  tcp::socket socket_;  // its executor is this connection's strand
  std::shared_ptr<ServerCore> server_;
  asio::steady_timer linger_;
  std::string peer_;          // for log lines
  std::string peer_address_;  // "ip:port", empty if unknown; what handlers see as current_peer()
  uint8_t header_[kHeaderBytes] = {};
  uint8_t drain_[4096] = {};
  std::deque<OutFrame> queue_;
  uint64_t queued_bytes_ = 0;  // sum of queue_ sizes
  uint32_t in_flight_ = 0;     // requests dispatched whose token is not released yet
  bool paused_ = false;        // reading stopped at max_inflight_per_connection
  bool writing_ = false;  // a write is in flight
  bool reading_ = false;  // a read (header, payload or drain) is in flight
  bool closing_ = false;  // no more requests are read; close after the queue is flushed
  bool closed_ = false;
  const bool refused_;
};

namespace {

// The processor's completion: encodes nothing itself, only frames and queues what the
// processor wrote (or an exception when the arguments did not decode).
void on_processed(const std::weak_ptr<Connection>& weak, const std::shared_ptr<RequestScope>& scope,
                  const std::shared_ptr<Request>& request, const std::string& name, int32_t seqid, TMessageType type,
                  bool ok, InflightToken& token) {
  auto connection = weak.lock();
  if (!connection) return;  // closed meanwhile: the reply is dropped
  // Released after the reply is queued: both post to the strand, so the queue is charged
  // before the next request is read.
  struct Release {
    InflightToken& token;
    ~Release() { token.release(); }
  } release{token};
  if (ok) {
    if (request->out->available_read() <= kHeaderBytes) return;  // oneway: nothing to send
    connection->send(finish_frame(request, *request->out), false);
    return;
  }
  scope->logger->warn("{} connection from {}: cannot decode the arguments of '{}' (seqid {})", scope->kind,
                     connection->peer(), name, seqid);
  if (type == apache::thrift::protocol::T_CALL) {
    connection->send(exception_frame(name, seqid, TApplicationException::PROTOCOL_ERROR,
                                     "cannot decode the arguments of '" + name + "'"),
                     false);
  }
}

}  // namespace

void InflightToken::release() {
  if (released_.exchange(true)) return;
  if (auto connection = connection_.lock()) connection->request_done();
}

void Connection::dispatch(const std::shared_ptr<Request>& request, const std::shared_ptr<InflightToken>& token) {
  if (!server_->enter()) return;
  struct Leave {
    ServerCore& server;
    ~Leave() { server.leave(); }
  } leave{*server_};

  const uint32_t limit = server_->options().max_frame_size;
  std::string name;
  TMessageType type = apache::thrift::protocol::T_CALL;
  int32_t seqid = 0;
  try {
    // Peek at the message header first so that failures can be answered with the right
    // name and seqid; the processor decodes it again (it is a few bytes).
    auto header = std::make_shared<TMemoryBuffer>(request->payload.get(), request->size, TMemoryBuffer::OBSERVE,
                                                  server_->config());
    Protocol peek(header, static_cast<int32_t>(limit), kMaxContainerElements, true, true);
    peek.readMessageBegin(name, type, seqid);
    if (type != apache::thrift::protocol::T_CALL && type != apache::thrift::protocol::T_ONEWAY) {
      throw apache::thrift::protocol::TProtocolException(
          apache::thrift::protocol::TProtocolException::INVALID_DATA,
          "message type " + std::to_string(static_cast<int>(type)) + " is not a call");
    }
  } catch (const std::exception& e) {
    server_->log().warn("{} connection from {}: undecodable Thrift message in a {}-byte frame ({}); closing",
                        server_->kind(), peer_, request->size, e.what());
    send(exception_frame("", 0, TApplicationException::PROTOCOL_ERROR,
                         std::string("undecodable Thrift message: ") + e.what()),
         true);
    return;
  }

  request->in = std::make_shared<TMemoryBuffer>(request->payload.get(), request->size, TMemoryBuffer::OBSERVE,
                                                server_->config());
  // Bound list/map claims by what this frame actually holds (reset again by readEnd()).
  request->in->updateKnownMessageSize(request->size);
  request->out = std::make_shared<TMemoryBuffer>(1024, server_->config());
  write_placeholder(*request->out);
  request->in_protocol = std::make_shared<Protocol>(request->in, static_cast<int32_t>(limit), kMaxContainerElements,
                                                    true, true);
  request->out_protocol = std::make_shared<Protocol>(request->out);

  std::weak_ptr<Connection> weak = weak_from_this();
  try {
    PeerScope peer_scope(peer_address_);  // handlers run synchronously inside process()
    server_->processor().process(
        [weak, scope = server_->scope(), request, name, seqid, type, token](bool ok) {
          on_processed(weak, scope, request, name, seqid, type, ok, *token);
        },
        request->in_protocol, request->out_protocol);
  } catch (const std::exception& e) {
    // Reached when the processor itself fails to skip an unknown method's garbage, etc.
    server_->log().warn("{} connection from {}: cannot process '{}' (seqid {}): {}", server_->kind(), peer_, name,
                        seqid, e.what());
    if (type == apache::thrift::protocol::T_CALL) {
      send(exception_frame(name, seqid, TApplicationException::PROTOCOL_ERROR,
                           "cannot process '" + name + "': " + e.what()),
           false);
    }
    token->release();
  }
  // The arguments are decoded by now; a held request keeps only its reply buffer.
  request->in_protocol.reset();
  request->in.reset();
  request->payload.reset();
}

Status ServerCore::listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid("cannot listen on '" + host + "': not an IP address (use 0.0.0.0 or 127.0.0.1)");
  tcp::endpoint endpoint(address, port);
  std::string where = host + ":" + std::to_string(port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) return Status::system("cannot open a socket for " + where + ": " + ec.message());
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec) return Status::system("cannot bind " + kind_ + " listener to " + where + ": " + ec.message());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status::system("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::ok();
}

void ServerCore::start_accept() {
  acceptor_.async_accept(asio::make_strand(pool_.context()),
                         [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void ServerCore::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // E.g. EMFILE: back off briefly instead of spinning on a failing accept.
    logger_->warn("{} listener on port {}: accept failed: {}; retrying in 100 ms", kind_, port_, ec.message());
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
      if (!wait_ec) self->start_accept();
    });
    return;
  }
  std::shared_ptr<Connection> connection;
  std::string refusal;  // non-empty: the connection only gets this error, then closes
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // the socket closes as it goes out of scope
    size_t serving = connections_.size() - refusing_;
    if (serving >= options_.max_connections) {
      boost::system::error_code ignored;
      auto peer = socket.remote_endpoint(ignored);
      refusal = kind_ + " on port " + std::to_string(port_) + " refuses the connection: " + std::to_string(serving) +
                " connections are open, the limit is transport-thrift.maxConnections=" +
                std::to_string(options_.max_connections) + "; close idle connections or raise the limit";
      logger_->warn("{} listener on port {}: refusing connection from {}:{}: {} connections open "
                    "(transport-thrift.maxConnections)",
                    kind_, port_, peer.address().to_string(), peer.port(), serving);
      // Bounded: past kMaxRefusing lingering refusals the socket is just closed.
      if (refusing_ < kMaxRefusing) {
        connection = std::make_shared<Connection>(std::move(socket), shared_from_this(), true);
        connections_.emplace(connection.get(), connection);
        ++refusing_;
      }
    } else {
      connection = std::make_shared<Connection>(std::move(socket), shared_from_this(), false);
      connections_.emplace(connection.get(), connection);
    }
  }
  if (connection && !refusal.empty()) {
    connection->refuse(refusal);
  } else if (connection) {
    connection->start();
  }
  start_accept();
}

void ServerCore::remove(Connection* connection) {
  std::lock_guard lock(mu_);
  if (connections_.erase(connection) > 0 && connection->refused()) --refusing_;
  cv_.notify_all();
}

void ServerCore::stop() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      cv_.wait(lock, [this] { return stopped_; });
      return;
    }
    stopping_ = true;
    for (auto& [ptr, connection] : connections_) open.push_back(connection);
  }
  auto close_acceptor = [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->accept_retry_.cancel();
    std::lock_guard lock(self->mu_);
    self->acceptor_closed_ = true;
    self->cv_.notify_all();
  };
  if (pool_.running()) {
    asio::post(acceptor_.get_executor(), close_acceptor);
    for (auto& connection : open) connection->post_close();
  } else {
    // No io thread runs, so nothing else touches the sockets.
    close_acceptor();
    for (auto& connection : open) connection->close_now();
  }
  open.clear();
  std::unique_lock lock(mu_);
  if (pool_.in_io_thread()) {
    // Waiting here would deadlock the thread that must run the closes.
    logger_->error("{} listener on port {}: stop() called from an io thread; not waiting", kind_, port_);
  } else {
    cv_.wait(lock, [this] { return acceptor_closed_ && connections_.empty() && in_flight_ == 0; });
  }
  stopped_ = true;
  cv_.notify_all();
  logger_->info("{} listener on port {} stopped", kind_, port_);
}

Result<std::unique_ptr<FrameServer>> FrameServer::listen(
    IoPool& pool, std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor, const std::string& host,
    uint16_t port, const FrameServerOptions& options, std::shared_ptr<spdlog::logger> logger, std::string kind) {
  auto core = std::make_shared<ServerCore>(pool, std::move(processor), options, std::move(logger), std::move(kind));
  if (Status st = core->listen(host, port); !st.is_ok()) return st;
  core->start_accept();
  core->log().info("{} listening on {}:{}", core->kind(), host, core->port());
  return std::unique_ptr<FrameServer>(new FrameServer(std::move(core)));
}

FrameServer::~FrameServer() { stop(); }

uint16_t FrameServer::port() const { return core_->port(); }

void FrameServer::stop() { core_->stop(); }

void stop_server_core(const std::weak_ptr<ServerCore>& core) {
  if (auto strong = core.lock()) strong->stop();
}

}  // namespace mq::transport_thrift
