// FrameServer: acceptor, per-connection frame reader, dispatch into the Thrift processor,
// and a per-connection write queue. See frame_server.h for the contract.
#include "frame_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <thrift/TApplicationException.h>
#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "peer_scope.h"
#include "read_buffer_policy.h"

// Threading: every connection is bound at accept to one io_context of the pool, run by one
// thread; its socket, buffers, queue and flags are touched only there. It moves to another
// context only from its own thread with nothing in flight (Connection::follow_peer()), and
// handlers posted to it find it wherever it went (Connection::post_own()). Frames are processed
// in arrival order on that thread (see frame_server.h). A reply completed on that thread
// (the common case: the handler answers inside process()) is queued and written inline; one
// completed elsewhere (a held pull, a SYNC_FLUSH put) waits in the connection's inbox, which
// one posted drain empties, writing the replies of a burst together.
// The server's connection set is guarded by mu_; the dispatch count is atomic.
namespace mq::transport_thrift {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Acceptor = tcp::acceptor::rebind_executor<Executor>::other;
using Timer =
    asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;
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
// Reply frames gathered into one write.
constexpr size_t kMaxGather = 16;
// A pinned server asks where a connection's packets arrive every this many reads
// (Connection::follow_peer()).
constexpr uint32_t kFollowCheckReads = 16;
// Reply bytes a parse pass (or an inbox drain) may queue before it writes them out mid-pass:
// replies are held back only to be gathered, so maxPendingReplyBytes still measures a peer
// that does not read.
constexpr uint64_t kWriteDuringPassBytes = 64 * 1024;

// The CPU the socket's packets last arrived on (SO_INCOMING_CPU), -1 if unknown.
int incoming_cpu(Socket& socket) {
  int cpu = -1;
  socklen_t len = sizeof cpu;
  if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) != 0) cpu = -1;
  return cpu;
}

// The open socket `socket` (with no operation pending) rebound to loop `loop` of `pool`;
// `socket` is left closed. On failure `ec` is set and the descriptor is closed.
Socket move_to_loop(Socket& socket, IoPool& pool, size_t loop, boost::system::error_code& ec) {
  const auto protocol = socket.local_endpoint(ec).protocol();
  const int fd = ec ? -1 : socket.release(ec);
  Socket moved(pool.context_at(loop).get_executor());
  if (!ec) moved.assign(protocol, fd, ec);
  if (ec && fd >= 0 && !moved.is_open()) ::close(fd);
  return moved;
}

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

OutFrame exception_frame(const std::string& name, int32_t seqid, TApplicationException::TApplicationExceptionType type,
                         const std::string& message) {
  auto buffer = std::make_shared<TMemoryBuffer>(256);
  write_placeholder(*buffer);
  Protocol protocol(buffer);
  protocol.writeMessageBegin(name, apache::thrift::protocol::T_EXCEPTION, seqid);
  TApplicationException(type, message).write(&protocol);
  protocol.writeMessageEnd();
  return finish_frame(buffer, *buffer);
}

// A non-owning shared_ptr (no control block, no allocation) for Thrift APIs that take
// shared_ptrs to objects whose lifetime the caller already guarantees.
template <typename T>
std::shared_ptr<T> borrow(T& object) {
  return std::shared_ptr<T>(std::shared_ptr<void>(), &object);
}

// What a pending reply needs after its request was dispatched. The generated processor binds
// its own raw `this` into the completion, so every completion holds the processor alive
// through this scope -- but not the ServerCore (acceptor, io objects), because a kernel may
// complete a held request after the server is gone.
struct RequestScope {
  std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor;
  std::shared_ptr<spdlog::logger> logger;
  std::string kind;
};

// A pointer to `scope` with a control block of its own, which keeps `scope` alive.
std::shared_ptr<RequestScope> connection_scope(const std::shared_ptr<RequestScope>& scope) {
  auto holder = std::make_shared<std::shared_ptr<RequestScope>>(scope);
  return std::shared_ptr<RequestScope>(holder, holder->get());
}

}  // namespace

class Connection;

// One dispatched request: its reply buffer and its slot in the connection's in-flight count.
// Shared by the processor's completion (any thread) and, once answered, the write queue.
// The request frame itself is decoded in place from the connection's read buffer by
// transport objects that live on the dispatching stack for that one call: fresh Thrift
// transports per message are the server side of the 0.17 message-size budget fix (no Thrift
// transport object outlives one message, so no budget can leak across them).
struct Request {
  Request(std::weak_ptr<Connection> c, std::shared_ptr<RequestScope> s, const std::shared_ptr<TConfiguration>& config)
      : connection(std::move(c)), scope(std::move(s)), out(1024, config), out_protocol(borrow(out)) {
    write_placeholder(out);
  }
  // A request whose completion is dropped unanswered still frees its slot.
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  std::weak_ptr<Connection> connection;
  std::shared_ptr<RequestScope> scope;
  TMemoryBuffer out;      // the reply frame: 4-byte length placeholder, then the message
  Protocol out_protocol;  // writes into `out` (borrowed: both die together)
  std::string name;
  int32_t seqid = 0;
  TMessageType type = apache::thrift::protocol::T_CALL;
  std::atomic<bool> finished{false};  // the slot was handed back (at most once)
};

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(IoPool& pool, std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
             const FrameServerOptions& options, std::shared_ptr<spdlog::logger> logger, std::string kind)
      : pool_(pool),
        acceptor_(pool.context().get_executor()),
        accept_retry_(acceptor_.get_executor()),
        scope_(std::make_shared<RequestScope>(RequestScope{std::move(processor), logger, kind})),
        options_(options),
        // A frame is one message: the per-message budget must admit the largest frame.
        config_(std::make_shared<TConfiguration>(
            std::max<int>(+TConfiguration::DEFAULT_MAX_MESSAGE_SIZE, static_cast<int>(options.max_frame_size)),
            static_cast<int>(options.max_frame_size))),
        logger_(std::move(logger)),
        kind_(std::move(kind)),
        dispatching_(std::make_unique<DispatchCount[]>(pool.size())) {}

  Status listen(const std::string& host, uint16_t port);
  void start_accept();
  void stop();
  uint16_t port() const { return port_; }

  // Brackets a call into the processor from loop `loop`'s thread; false once stop() has
  // begun. Lock-free on the hot path: stop() publishes stopping_ and then waits for every
  // loop's count to reach 0; all are sequentially consistent, so either enter() sees
  // stopping_ or stop() sees the count.
  bool enter(size_t loop) {
    dispatching_[loop].calls.fetch_add(1);
    if (stopping_.load()) {
      leave(loop);
      return false;
    }
    return true;
  }
  void leave(size_t loop) {
    if (dispatching_[loop].calls.fetch_sub(1) == 1 && stopping_.load()) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  }
  void remove(Connection* connection);

  const FrameServerOptions& options() const { return options_; }
  IoPool& pool() { return pool_; }
  const std::shared_ptr<TConfiguration>& config() const { return config_; }
  apache::thrift::async::TAsyncProcessor& processor() { return *scope_->processor; }
  const std::shared_ptr<RequestScope>& scope() const { return scope_; }
  spdlog::logger& log() { return *logger_; }
  const std::string& kind() const { return kind_; }

 private:
  void on_accept(const boost::system::error_code& ec, Socket socket);
  std::optional<std::pair<size_t, Socket>> place(Socket socket);

  IoPool& pool_;
  Acceptor acceptor_;  // on the pool's first context
  Timer accept_retry_;
  std::shared_ptr<RequestScope> scope_;
  FrameServerOptions options_;
  std::shared_ptr<TConfiguration> config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string kind_;
  uint16_t port_ = 0;

  std::atomic<bool> stopping_{false};  // set once, under mu_
  // Calls into the processor in progress, counted per loop on a cache line of its own: an io
  // thread's request never writes a line the other io threads write (which would move it
  // between CPUs on every request).
  struct alignas(64) DispatchCount {
    std::atomic<int> calls{0};
  };
  std::unique_ptr<DispatchCount[]> dispatching_;  // pool_.size() entries
  bool dispatch_idle() const {
    for (size_t i = 0; i < pool_.size(); ++i) {
      if (dispatching_[i].calls.load() != 0) return false;
    }
    return true;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;  // guarded by mu_
  bool stopped_ = false;                                                      // guarded by mu_
  bool acceptor_closed_ = false;                                              // guarded by mu_
  size_t refusing_ = 0;  // guarded by mu_; connections_ entries only flushing a refusal
};

// One accepted socket. Owned by the server's set while open and by pending handlers.
// Everything below runs on the connection's own io thread unless marked "any thread".
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `refused`: over the connection limit; refuse() is called instead of start(). `loop`: the
  // pool's loop the socket is bound to (IoPool::place()).
  Connection(Socket socket, std::shared_ptr<ServerCore> server, bool refused, size_t loop)
      : socket_(std::move(socket)),
        server_(std::move(server)),
        linger_(std::in_place, socket_.get_executor()),
        refused_(refused),
        loop_(loop),
        config_(std::make_shared<TConfiguration>(*server_->config())),
        scope_(connection_scope(server_->scope())) {
    boost::system::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) peer_address_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    if (!ec) {
      // A peer on this machine connects from the address it connects to (or loopback).
      boost::system::error_code local_ec;
      const auto local = socket_.local_endpoint(local_ec);
      peer_on_this_machine_ = endpoint.address().is_loopback() || (!local_ec && local.address() == endpoint.address());
    }
    peer_ = ec ? std::string("unknown peer") : peer_address_;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);  // write_next() tries writes in place
  }

  const std::string& peer() const { return peer_; }
  bool refused() const { return refused_; }
  // Any thread: the loop serving the connection now (it changes only between requests:
  // follow_peer()).
  size_t loop() const { return loop_.load(std::memory_order_acquire); }

  // Any thread. Answers the connection with one exception frame carrying `reason` (what the
  // client's next call throws), then closes it like any error reply: flush, FIN, drain or
  // linger.
  void refuse(std::string reason) {
    post_own([reason = std::move(reason)](Connection& self) {
      if (self.closed_) return;
      self.enqueue(exception_frame("", 0, TApplicationException::INTERNAL_ERROR, reason));
      self.begin_closing();
      self.write_next();
    });
  }

  // Any thread.
  void start() {
    post_own([](Connection& self) { self.read_more(); });
  }

  // Any thread: closes the socket on the connection's thread.
  void post_close() {
    post_own([](Connection& self) { self.close_now(); });
  }

  // Own thread (or when no io thread runs). Idempotent.
  void close_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    linger_->cancel();
    queue_.clear();
    queued_bytes_ = 0;
    server_->remove(this);
  }

  // Any thread: one dispatched request is finished, with `frame` its reply (none for a
  // oneway call). Completed inside this connection's own dispatch (the handler answered
  // within process(): the common case) the reply is queued at once and written when the
  // frames buffered are dispatched, together; from anywhere else (another thread, or another
  // connection's dispatch on this thread, possibly under kernel locks) it waits in the inbox,
  // and only the first of a burst posts a drain to the connection's context, so the replies
  // of one group commit (SYNC_FLUSH answering many puts at once) go out in one gathered write
  // instead of one post and one sendmsg each. The reply is queued before the slot is freed,
  // so the queue is charged before reading resumes after a pause.
  void finish_request(std::optional<OutFrame> frame) {
    // parsing_ is read only once we know this is the connection's own thread.
    if (on_own_loop() && parsing_) return on_finished(std::move(frame));
    bool first = false;
    {
      std::lock_guard lock(inbox_mu_);
      first = inbox_.empty();
      inbox_.push_back(std::move(frame));
    }
    if (!first) return;  // the drain posted for the first of the burst takes this one too
    try {
      post_own([](Connection& self) { self.drain_inbox(); });
    } catch (...) {
      // No drain is coming: drop what waits (those replies are lost, as the one whose post
      // failed was before) so that the next completion posts a drain again.
      std::lock_guard lock(inbox_mu_);
      inbox_.clear();
      throw;
    }
  }

 private:
  // Any thread: whether this is the thread of the loop serving the connection.
  bool on_own_loop() const { return server_->pool().runs_loop(loop()); }

  // Any thread: runs fn(*this) on the connection's thread. A handler that finds the
  // connection moved to another loop meanwhile (follow_peer()) posts itself on to that loop.
  template <class Fn>
  void post_own(Fn fn) {
    asio::post(server_->pool().context_at(loop()), [self = shared_from_this(), fn = std::move(fn)]() mutable {
      if (!self->on_own_loop()) return self->post_own(std::move(fn));
      fn(*self);
    });
  }

  // Own thread: queues a reply; with close_after the connection reads no more requests and
  // closes once the frame is flushed (or after kLinger).
  void send(OutFrame frame, bool close_after) {
    if (closed_ || closing_) return;
    enqueue(std::move(frame));
    if (close_after) begin_closing();
    if (!writing_) {
      // No write is waiting for the socket. During a parse pass process_buffer() writes what
      // its dispatches queued, together, unless that grows past kWriteDuringPassBytes.
      if (!(parsing_ || batching_) || queued_bytes_ >= kWriteDuringPassBytes) write_next();
      return;
    }
    // A write is waiting for the socket to drain: replies pile up only while the peer does
    // not read. One frame alone may exceed the limit (it is written as the queue drains).
    const uint64_t limit = server_->options().max_pending_reply_bytes;
    if (queued_bytes_ > limit && queue_.size() > 1) {
      server_->log().warn(
          "{} connection from {}: {} reply bytes in {} frames are waiting to be written, more than "
          "transport-thrift.maxPendingReplyBytes={}; closing (the peer sends requests but does not read replies)",
          server_->kind(), peer_, queued_bytes_, queue_.size(), limit);
      close_now();
    }
  }

  // Own thread: finishes every request completed elsewhere since the last drain, then writes
  // their replies together.
  void drain_inbox() {
    std::vector<std::optional<OutFrame>> batch;
    {
      std::lock_guard lock(inbox_mu_);
      batch.swap(inbox_);
    }
    batching_ = true;
    try {
      for (std::optional<OutFrame>& frame : batch) on_finished(std::move(frame));
    } catch (const std::exception& e) {
      // Replies and in-flight slots of the rest of the burst are lost: the connection cannot
      // go on consistently.
      batching_ = false;
      server_->log().warn("{} connection from {}: cannot queue the replies completed elsewhere ({}); closing",
                          server_->kind(), peer_, e.what());
      return close_now();
    }
    batching_ = false;
    if (!closed_ && !writing_ && !queue_.empty()) write_next();
  }

  void on_finished(std::optional<OutFrame> frame) {
    if (frame) send(std::move(*frame), false);
    --in_flight_;
    if (paused_ && in_flight_ < server_->options().max_inflight_per_connection) {
      paused_ = false;
      // Resumed from a handler of its own (never inside this completion): a completion may run
      // inside a kernel call that holds kernel locks, and resuming dispatches the next request.
      post_own([](Connection& self) { self.resume(); });
    }
  }

  void resume() {
    if (closed_ || closing_ || paused_ || parsing_ || reading_) return;
    process_buffer();
  }

  void enqueue(OutFrame frame) {
    queued_bytes_ += frame.size;
    queue_.push_back(std::move(frame));
  }

  // Decodes and processes one request frame of the read buffer (valid during this call only).
  void dispatch(const uint8_t* payload, uint32_t size);

  // Frames buffered [begin_, end_): length of the first one, if its header is complete.
  std::optional<int32_t> first_length() const {
    if (end_ - begin_ < kHeaderBytes) return std::nullopt;
    uint32_t raw = 0;
    std::memcpy(&raw, buffer_.get() + begin_, kHeaderBytes);
    return static_cast<int32_t>(ntohl(raw));
  }

  // Dispatches every complete frame buffered, in order, then reads on (unless paused,
  // closing or closed). Frames are consumed before their dispatch: nothing refers to the
  // read buffer after dispatch() returns.
  void process_buffer() {
    parsing_ = true;
    try {
      parse_frames();
    } catch (const std::exception& e) {
      // Outside the processor's own guards (allocation, building an error reply): the
      // connection cannot go on consistently.
      parsing_ = false;
      server_->log().warn("{} connection from {}: cannot dispatch the frames read ({}); closing", server_->kind(),
                          peer_, e.what());
      return close_now();
    }
    parsing_ = false;
    if (!closed_ && !writing_ && !queue_.empty()) write_next();
    read_more();
  }

  void parse_frames() {
    const uint32_t limit = server_->options().max_frame_size;
    const uint32_t max_inflight = server_->options().max_inflight_per_connection;
    while (!closed_ && !closing_) {
      if (in_flight_ >= max_inflight) {
        paused_ = true;  // on_finished() reads on
        server_->log().debug(
            "{} connection from {}: {} requests in flight (transport-thrift.maxInflightPerConnection); "
            "pausing reads",
            server_->kind(), peer_, in_flight_);
        break;
      }
      auto length = first_length();
      if (!length) break;
      if (*length <= 0 || static_cast<uint32_t>(*length) > limit) {
        std::string reason = "frame length " + std::to_string(*length) + " is outside 1.." + std::to_string(limit) +
                             " bytes (transport-thrift.maxFrameSize)";
        server_->log().warn("{} connection from {}: {}; closing", server_->kind(), peer_, reason);
        enqueue(exception_frame("", 0, TApplicationException::PROTOCOL_ERROR, reason));
        begin_closing();
        if (!writing_) write_next();
        break;
      }
      const auto size = static_cast<uint32_t>(*length);
      if (end_ - begin_ - kHeaderBytes < size) break;
      const uint8_t* payload = buffer_.get() + begin_ + kHeaderBytes;
      begin_ += kHeaderBytes + size;
      frame_bytes_ = kHeaderBytes + size;
      ++in_flight_;
      dispatch(payload, size);
    }
  }

  // Makes room after the buffered bytes and returns how many bytes the next read may take.
  // The capacity follows next_read_capacity() (read_buffer_policy.h). The buffer is filled up
  // to its end, and the bytes still buffered move to its start only when the first frame
  // would not fit after them or little room is left (not after every frame). A buffer grown
  // past kKeptReadBufferBytes takes reads up to the end of the first frame only.
  size_t prepare_buffer() {
    const size_t buffered = end_ - begin_;
    size_t need = kReadBufferBytes;  // bytes the buffer must hold from the first frame's start
    if (auto length = first_length(); length && *length > 0) {
      need = std::max(need, kHeaderBytes + static_cast<size_t>(*length));
    }
    auto reallocate = [&](size_t capacity) {
      auto fresh = std::make_unique_for_overwrite<uint8_t[]>(capacity);
      if (buffered > 0) std::memcpy(fresh.get(), buffer_.get() + begin_, buffered);
      buffer_ = std::move(fresh);
      capacity_ = capacity;
      begin_ = 0;
      end_ = buffered;
    };
    if (const size_t capacity =
            next_read_capacity(buffer_ ? capacity_ : 0, buffered, need, filled_room_, frame_bytes_)) {
      reallocate(capacity);
    } else if (buffered == 0) {
      begin_ = end_ = 0;
    } else if (begin_ > 0 && (begin_ + need > capacity_ || capacity_ - end_ < capacity_ / 4)) {
      std::memmove(buffer_.get(), buffer_.get() + begin_, buffered);
      begin_ = 0;
      end_ = buffered;
    }
    const size_t limit = capacity_ > kKeptReadBufferBytes ? begin_ + need : capacity_;
    return limit - end_;
  }

  void read_more() {
    if (closed_ || closing_ || paused_ || parsing_ || reading_) return;
    const size_t room = prepare_buffer();
    room_ = room;
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(buffer_.get() + end_, room),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t bytes) { self->on_read(ec, bytes); });
  }

  void on_read(const boost::system::error_code& ec, size_t bytes) {
    reading_ = false;
    if (closed_) return;  // e.g. closed for unread replies while this read was pending
    if (closing_) return drain();
    if (ec) {
      const size_t buffered = end_ - begin_;
      if (ec != asio::error::operation_aborted && buffered > 0) {
        if (auto length = first_length()) {
          server_->log().warn("{} connection from {}: truncated frame ({} of {} bytes, {}); closing", server_->kind(),
                              peer_, buffered - kHeaderBytes, *length, ec.message());
        } else {
          server_->log().warn("{} connection from {}: peer closed inside a frame header ({} of 4 bytes); closing",
                              server_->kind(), peer_, buffered);
        }
      }
      return close_now();
    }
    end_ += bytes;
    filled_room_ = bytes == room_;
    if (follow_peer()) return;
    process_buffer();
  }

  // Own thread, in on_read() with the bytes read not yet processed. With pinned io threads
  // and a peer on this machine, every kFollowCheckReads reads asks which CPU the peer sends
  // from (SO_INCOMING_CPU); when two looks in a row name another CPU with an io thread of
  // its own (IoPool::follow()), moves the connection there, between requests, and processes
  // the bytes read on that thread. True when it moved (or closed): the caller is done.
  // Why: the scheduler moves a peer's thread between CPUs after the connection was placed;
  // served from the other CPU, every reply wakes the peer across CPUs (io_placement.h).
  bool follow_peer() {
    if (!peer_on_this_machine_ || !server_->pool().pinned() || ++reads_since_look_ < kFollowCheckReads) return false;
    // Only with nothing in flight: no completion, posted handler or pending socket or timer
    // operation may still refer to the old loop.
    if (in_flight_ != 0 || writing_ || !queue_.empty() || paused_ || closing_) return false;
    reads_since_look_ = 0;
    const int cpu = incoming_cpu(socket_);
    const bool again = cpu == last_incoming_cpu_;
    last_incoming_cpu_ = cpu;
    if (!again) return false;
    const size_t from = loop();
    const auto to = server_->pool().follow(from, cpu);
    if (!to) return false;
    boost::system::error_code ec;
    Socket moved = move_to_loop(socket_, server_->pool(), *to, ec);
    loop_.store(*to, std::memory_order_release);  // counted there already; remove() unplaces it there
    if (ec) {
      server_->log().warn("{} connection from {}: could not move it from io thread {} to {}: {}; closing",
                          server_->kind(), peer_, from, *to, ec.message());
      close_now();
      return true;
    }
    socket_ = std::move(moved);
    server_->log().debug("{} connection from {}: moved from io thread {} to {}, on the CPU its peer sends from ({})",
                         server_->kind(), peer_, from, *to, cpu);
    linger_.emplace(socket_.get_executor());
    post_own([](Connection& self) { self.process_buffer(); });
    return true;
  }

  // Writes the queue, up to kMaxGather frames per gathered write. The write is first tried
  // right here on the non-blocking socket: a reply usually fits in the socket buffer whole,
  // which saves the completion round trip through the event loop. What does not fit is
  // written asynchronously and on_written() carries on.
  void write_next() {
    writing_ = true;
    for (;;) {
      gathered_ = std::min(queue_.size(), kMaxGather);
      size_t total = 0;
      for (size_t i = 0; i < gathered_; ++i) {
        gather_[i] = asio::const_buffer(queue_[i].data, queue_[i].size);
        total += queue_[i].size;
      }
      boost::system::error_code ec;
      size_t written = socket_.write_some(BufferRange{gather_.data(), gather_.data() + gathered_}, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec.clear();
        written = 0;
      }
      if (ec) return on_written(ec);
      if (written < total) {
        // Skip what went out, then let Asio write the rest when the socket drains.
        size_t first = 0;
        while (written >= gather_[first].size()) written -= gather_[first++].size();
        gather_[first] += written;
        asio::async_write(socket_, BufferRange{gather_.data() + first, gather_.data() + gathered_},
                          [self = shared_from_this()](const boost::system::error_code& write_ec, size_t) {
                            self->on_written(write_ec);
                          });
        return;
      }
      pop_gathered();
      if (queue_.empty()) return on_flushed();
    }
  }

  void pop_gathered() {
    for (size_t i = 0; i < gathered_; ++i) {
      queued_bytes_ -= queue_.front().size;
      queue_.pop_front();
    }
    gathered_ = 0;
  }

  void on_written(const boost::system::error_code& ec) {
    if (closed_) return;
    pop_gathered();
    if (ec) {
      server_->log().debug("{} connection from {}: write failed: {}", server_->kind(), peer_, ec.message());
      return close_now();
    }
    if (!queue_.empty()) return write_next();
    on_flushed();
  }

  // The queue is empty and no write is in flight.
  void on_flushed() {
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
    linger_->expires_after(kLinger);
    linger_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close_now();
    });
  }

  // Discards input until the peer closes, so that closing never resets the connection
  // before the peer has read our last reply.
  void drain() {
    if (closed_ || reading_) return;
    if (!buffer_) {
      buffer_ = std::make_unique_for_overwrite<uint8_t[]>(kReadBufferBytes);
      capacity_ = kReadBufferBytes;
    }
    begin_ = end_ = 0;
    reading_ = true;
    socket_.async_read_some(asio::buffer(buffer_.get(), capacity_),
                            [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                              self->reading_ = false;
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  // A buffer sequence over gather_ that copies without allocating.
  struct BufferRange {
    const asio::const_buffer* first;
    const asio::const_buffer* last;
    const asio::const_buffer* begin() const { return first; }
    const asio::const_buffer* end() const { return last; }
  };

  Socket socket_;  // bound to the io_context of loop_ (one thread)
  std::shared_ptr<ServerCore> server_;
  std::optional<Timer> linger_;        // bound like socket_ (re-made when the connection moves)
  std::string peer_;                   // for log lines
  std::string peer_address_;           // "ip:port", empty if unknown; what handlers see as current_peer()
  std::unique_ptr<uint8_t[]> buffer_;  // read buffer: frames received, [begin_, end_) not yet dispatched
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t room_ = 0;           // what the read in progress may take
  bool filled_room_ = false;  // the last read took all of its room (next_read_capacity)
  size_t frame_bytes_ = 0;    // the last frame dispatched, header included (next_read_capacity)
  std::deque<OutFrame> queue_;
  std::array<asio::const_buffer, kMaxGather> gather_{};  // the frames of the write in flight
  size_t gathered_ = 0;                                  // how many of queue_'s front frames it writes
  uint64_t queued_bytes_ = 0;                            // sum of queue_ sizes
  uint32_t in_flight_ = 0;                               // requests dispatched and not finished yet
  bool paused_ = false;                                  // dispatching stopped at max_inflight_per_connection
  bool parsing_ = false;                                 // process_buffer() is on the stack
  bool batching_ = false;                                // drain_inbox() is on the stack
  // Completions from other threads (at most maxInflightPerConnection), kept off the cache
  // lines of the io-thread fields above.
  alignas(64) std::mutex inbox_mu_;
  std::vector<std::optional<OutFrame>> inbox_;  // guarded by inbox_mu_
  bool writing_ = false;                        // a write is in flight
  bool reading_ = false;                        // a read (frames or drain) is in flight
  bool closing_ = false;                        // no more requests are read; close after the queue is flushed
  bool closed_ = false;
  const bool refused_;
  // Written only by the connection's own thread, between requests (follow_peer()); read
  // anywhere to reach that thread.
  std::atomic<size_t> loop_;
  bool peer_on_this_machine_ = false;  // follow_peer() follows only such peers
  uint32_t reads_since_look_ = 0;      // follow_peer()
  int last_incoming_cpu_ = -1;         // what follow_peer()'s last look found
  // The server's configuration and scope, with reference counts of this connection's own:
  // every request copies both, and copies of the server's would write one cache line from
  // all io threads (docs/benchmarks.md, round 17).
  const std::shared_ptr<TConfiguration> config_;
  const std::shared_ptr<RequestScope> scope_;
};

Request::~Request() {
  if (finished.exchange(true)) return;
  if (auto c = connection.lock()) c->finish_request(std::nullopt);
}

namespace {

// The processor's completion: encodes nothing itself, only frames and queues what the
// processor wrote (or an exception when the arguments did not decode).
void on_processed(const std::shared_ptr<Request>& request, bool ok) {
  if (request->finished.exchange(true)) return;
  auto connection = request->connection.lock();
  if (!connection) return;  // closed meanwhile: the reply is dropped
  if (ok) {
    if (request->out.available_read() <= kHeaderBytes) return connection->finish_request(std::nullopt);  // oneway
    return connection->finish_request(finish_frame(request, request->out));
  }
  const auto& scope = *request->scope;
  scope.logger->warn("{} connection from {}: cannot decode the arguments of '{}' (seqid {})", scope.kind,
                     connection->peer(), request->name, request->seqid);
  if (request->type != apache::thrift::protocol::T_CALL) return connection->finish_request(std::nullopt);
  connection->finish_request(exception_frame(request->name, request->seqid, TApplicationException::PROTOCOL_ERROR,
                                             "cannot decode the arguments of '" + request->name + "'"));
}

}  // namespace

void Connection::dispatch(const uint8_t* payload, uint32_t size) {
  const size_t loop = loop_.load(std::memory_order_relaxed);  // own thread: the only writer
  if (!server_->enter(loop)) {
    --in_flight_;
    return;
  }
  struct Leave {
    ServerCore& server;
    size_t loop;
    ~Leave() { server.leave(loop); }
  } leave{*server_, loop};

  // Thrift's memory transport only reads from the buffer it observes.
  auto* bytes = const_cast<uint8_t*>(payload);
  const uint32_t limit = server_->options().max_frame_size;
  std::string name;
  TMessageType type = apache::thrift::protocol::T_CALL;
  int32_t seqid = 0;
  try {
    // Peek at the message header first so that failures can be answered with the right
    // name and seqid; the processor decodes it again (it is a few bytes).
    TMemoryBuffer header(bytes, size, TMemoryBuffer::OBSERVE, config_);
    Protocol peek(borrow(header), static_cast<int32_t>(limit), kMaxContainerElements, true, true);
    peek.readMessageBegin(name, type, seqid);
    if (type != apache::thrift::protocol::T_CALL && type != apache::thrift::protocol::T_ONEWAY) {
      throw apache::thrift::protocol::TProtocolException(
          apache::thrift::protocol::TProtocolException::INVALID_DATA,
          "message type " + std::to_string(static_cast<int>(type)) + " is not a call");
    }
  } catch (const std::exception& e) {
    --in_flight_;
    server_->log().warn("{} connection from {}: undecodable Thrift message in a {}-byte frame ({}); closing",
                        server_->kind(), peer_, size, e.what());
    send(exception_frame("", 0, TApplicationException::PROTOCOL_ERROR,
                         std::string("undecodable Thrift message: ") + e.what()),
         true);
    return;
  }

  auto request = std::make_shared<Request>(weak_from_this(), scope_, config_);
  request->name = std::move(name);
  request->seqid = seqid;
  request->type = type;
  // The arguments are decoded inside process() (the generated processor reads them before
  // calling the handler), so the input transport lives on this stack only.
  TMemoryBuffer in(bytes, size, TMemoryBuffer::OBSERVE, config_);
  // Bound list/map claims by what this frame actually holds (reset again by readEnd()).
  in.updateKnownMessageSize(size);
  Protocol in_protocol(borrow(in), static_cast<int32_t>(limit), kMaxContainerElements, true, true);
  try {
    PeerScope peer_scope(peer_address_);  // handlers run synchronously inside process()
    server_->processor().process([request](bool ok) { on_processed(request, ok); }, borrow(in_protocol),
                                 std::shared_ptr<Protocol>(request, &request->out_protocol));
  } catch (const std::exception& e) {
    // Reached when the processor itself fails to skip an unknown method's garbage, etc.
    server_->log().warn("{} connection from {}: cannot process '{}' (seqid {}): {}", server_->kind(), peer_,
                        request->name, request->seqid, e.what());
    if (!request->finished.exchange(true)) {
      if (request->type == apache::thrift::protocol::T_CALL) {
        finish_request(exception_frame(request->name, request->seqid, TApplicationException::PROTOCOL_ERROR,
                                       "cannot process '" + request->name + "': " + e.what()));
      } else {
        finish_request(std::nullopt);
      }
    }
  }
}

Status ServerCore::listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid("cannot listen on '" + host + "': not an IP address (use 0.0.0.0 or 127.0.0.1)");
  tcp::endpoint endpoint(address, port);
  std::string where = host + ":" + std::to_string(port);
  if (acceptor_.open(endpoint.protocol(), ec); ec)
    return Status::system("cannot open a socket for " + where + ": " + ec.message());
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec)
    return Status::system("cannot bind " + kind_ + " listener to " + where + ": " + ec.message());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Status::system("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::ok();
}

void ServerCore::start_accept() {
  // Accepted onto the first loop; on_accept() moves the socket to the loop that serves it.
  acceptor_.async_accept(pool_.context().get_executor(),
                         [self = shared_from_this()](const boost::system::error_code& ec, Socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

// The loop that serves `socket` first (IoPool::place(): with pinned io threads
// the one on the CPU its packets arrive on, else the least loaded), and the socket bound to
// it; nullopt if the socket could not be moved (it is closed).
std::optional<std::pair<size_t, Socket>> ServerCore::place(Socket socket) {
  const size_t loop = pool_.place(incoming_cpu(socket));
  if (loop == 0) return std::make_pair(loop, std::move(socket));
  boost::system::error_code ec;
  Socket moved = move_to_loop(socket, pool_, loop, ec);
  if (ec) {
    logger_->warn("{} listener on port {}: could not hand an accepted connection to io thread {}: {}; closing it",
                  kind_, port_, loop, ec.message());
    pool_.unplace(loop);
    return std::nullopt;
  }
  return std::make_pair(loop, std::move(moved));
}

void ServerCore::on_accept(const boost::system::error_code& ec, Socket socket) {
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
  auto placed = place(std::move(socket));
  if (!placed) return start_accept();
  auto& [loop, bound] = *placed;
  std::shared_ptr<Connection> connection;
  std::string refusal;  // non-empty: the connection only gets this error, then closes
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      pool_.unplace(loop);
      return;  // the socket closes as it goes out of scope
    }
    size_t serving = connections_.size() - refusing_;
    if (serving >= options_.max_connections) {
      boost::system::error_code ignored;
      auto peer = bound.remote_endpoint(ignored);
      refusal = kind_ + " on port " + std::to_string(port_) + " refuses the connection: " + std::to_string(serving) +
                " connections are open, the limit is transport-thrift.maxConnections=" +
                std::to_string(options_.max_connections) + "; close idle connections or raise the limit";
      logger_->warn(
          "{} listener on port {}: refusing connection from {}:{}: {} connections open "
          "(transport-thrift.maxConnections)",
          kind_, port_, peer.address().to_string(), peer.port(), serving);
      // Bounded: past kMaxRefusing lingering refusals the socket is just closed.
      if (refusing_ < kMaxRefusing) {
        connection = std::make_shared<Connection>(std::move(bound), shared_from_this(), true, loop);
        connections_.emplace(connection.get(), connection);
        ++refusing_;
      } else {
        pool_.unplace(loop);
      }
    } else {
      connection = std::make_shared<Connection>(std::move(bound), shared_from_this(), false, loop);
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
  if (connections_.erase(connection) > 0) {
    if (connection->refused()) --refusing_;
    pool_.unplace(connection->loop());
  }
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
    cv_.wait(lock, [this] { return acceptor_closed_ && connections_.empty() && dispatch_idle(); });
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

FrameServer::~FrameServer() {
  stop();
}

uint16_t FrameServer::port() const {
  return core_->port();
}

void FrameServer::stop() {
  core_->stop();
}

void stop_server_core(const std::weak_ptr<ServerCore>& core) {
  if (auto strong = core.lock()) strong->stop();
}

}  // namespace mq::transport_thrift
