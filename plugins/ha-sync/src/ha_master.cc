// HaMaster and its per-slave MasterConnection (see ha_master.h, README.md "Protocol").
#include "ha_master.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/asio/post.hpp>

#include "framed_socket.h"
#include "hmac_sha256.h"

namespace mq::ha {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {
// Authenticated slaves (past AUTH) and connections still in the handshake are limited
// separately, so unauthenticated sockets can never crowd out the real slave.
constexpr size_t kMaxConnections = 32;
constexpr size_t kMaxHandshaking = 8;
constexpr auto kMetadataCheckPeriod = std::chrono::milliseconds(1000);

std::string read_file_if_exists(const std::string& path, bool* exists) {
  std::ifstream in(path, std::ios::binary);
  *exists = static_cast<bool>(in);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
}  // namespace

// One slave's connection. Network thread only (chunks come back from the transfer thread
// through a post).
class MasterConnection : public std::enable_shared_from_this<MasterConnection> {
 public:
  enum class State { kHello, kAuth, kStart, kStreaming, kClosed };

  MasterConnection(HaMaster& m, asio::ip::tcp::socket socket)
      : m_(m), sock_(std::make_shared<FramedSocket>(std::move(socket), kMaxSlaveFrame)) {}

  void start() {
    auto self = shared_from_this();
    sock_->set_on_written([self] { self->pump(); });
    sock_->start([self](FrameType t, std::string_view p) { self->on_frame(t, p); },
                 [self](const std::string& why) { self->on_closed(why); });
  }

  void close(const std::string& why) { sock_->close(why); }

  // Reads the next chunk if streaming, nothing is being read, and little is queued.
  void pump() {
    if (state_ != State::kStreaming) return;
    if (chunk_in_flight_) {
      repump_ = true;
      return;
    }
    if (sock_->queued() >= 2) return;
    chunk_in_flight_ = true;
    repump_ = false;
    auto self = shared_from_this();
    const int64_t from = next_offset_;
    const auto batch = static_cast<int32_t>(m_.d_.options.transfer_batch_size);
    asio::post(m_.transfer_, [self, from, batch] {
      auto chunk = self->m_.d_.store->read_raw(CommitLogOffset(from), batch);
      const int64_t max = self->m_.d_.store->stats().max_commit_log_offset.value();
      asio::post(self->m_.io_,
                 [self, chunk = std::move(chunk), max]() mutable { self->on_chunk(std::move(chunk), max); });
    });
  }

  void tick(Clock::time_point now) {
    if (state_ == State::kClosed) return;
    if (handshaking() && now - accepted_at_ > m_.handshake_deadline()) {
      m_.refused_.fetch_add(1);
      return close("no complete handshake within " + std::to_string(m_.handshake_deadline().count()) + " ms");
    }
    const auto hk = std::chrono::milliseconds(m_.d_.options.housekeeping_interval_ms);
    if (now - sock_->last_read() > hk) {
      return close("silent for more than haHousekeepingInterval=" + std::to_string(hk.count()) + " ms");
    }
    if (state_ == State::kStreaming) {
      const auto hb = std::chrono::milliseconds(m_.d_.options.heartbeat_interval_ms);
      if (sock_->queued() == 0 && now - sock_->last_write() >= hb) {
        sock_->send(encode_data_header(next_offset_, m_.d_.store->stats().max_commit_log_offset.value(), 0));
      }
      pump();
    }
  }

  void send_metadata(const std::string& frame, size_t hash, Clock::time_point now) {
    if (state_ != State::kStreaming) return;
    const auto period = std::chrono::milliseconds(m_.d_.options.metadata_sync_interval_ms);
    if (hash == metadata_hash_ && now - metadata_sent_at_ < period) return;
    metadata_hash_ = hash;
    metadata_sent_at_ = now;
    sock_->send(frame);
  }

  State state() const { return state_; }
  bool handshaking() const { return state_ == State::kHello || state_ == State::kAuth; }
  bool authenticated() const { return state_ == State::kStart || state_ == State::kStreaming; }
  int64_t broker_id() const { return broker_id_; }
  int64_t acked() const { return acked_; }
  const std::string& peer() const { return sock_->peer(); }

 private:
  void refuse(const std::string& reason) {
    m_.refused_.fetch_add(1);
    m_.d_.log->warn("refused replication peer {}: {}", sock_->peer(), reason);
    sock_->send(encode_refuse(reason));
    sock_->close_after_flush("refused: " + reason);
    state_ = State::kClosed;
    m_.update_slave(this);
  }

  void on_frame(FrameType type, std::string_view payload) {
    switch (state_) {
      case State::kHello:
        if (type != FrameType::kHello) return refuse("expected a hello frame first");
        return on_hello(payload);
      case State::kAuth:
        if (type != FrameType::kAuth) return refuse("expected an auth frame after the challenge");
        return on_auth(payload);
      case State::kStart:
        if (type != FrameType::kStart) return refuse("expected a start frame after the welcome");
        return on_start(payload);
      case State::kStreaming:
        if (type != FrameType::kAck) return close("unexpected frame type " + std::to_string(int(type)));
        return on_ack(payload);
      case State::kClosed:
        return;
    }
  }

  void on_hello(std::string_view payload) {
    auto h = decode_hello(payload);
    if (!h) return refuse(h.status().message());
    const BrokerIdentity& me = m_.d_.identity;
    if (h->cluster != me.cluster_name)
      return refuse("cluster '" + h->cluster + "' is not this master's cluster '" + me.cluster_name +
                    "'; set brokerClusterName on the slave");
    if (h->broker_name != me.broker_name)
      return refuse("broker name '" + h->broker_name + "' is not this master's '" + me.broker_name +
                    "'; a slave replicates the master of its own brokerName");
    if (h->broker_id <= 0)
      return refuse("brokerId " + std::to_string(h->broker_id) + " is not a slave id (a slave has brokerId > 0)");
    hello_ = std::move(*h);  // broker_id_ is set only once the peer proved the secret
    // Mutual challenge/response: prove the secret to the slave, then ask it for its proof.
    Challenge c;
    c.nonce = random_bytes(kNonceBytes);
    c.proof = master_proof(m_.d_.options.secret, hello_.nonce, c.nonce);
    master_nonce_ = c.nonce;
    state_ = State::kAuth;
    sock_->send(encode_challenge(c));
  }

  void on_auth(std::string_view payload) {
    auto proof = decode_auth(payload);
    if (!proof) return refuse(proof.status().message());
    const std::string& secret = m_.d_.options.secret;
    if (!secret.empty() && !secrets_equal(*proof, slave_proof(secret, hello_.nonce, master_nonce_)))
      return refuse("wrong haSecret");
    broker_id_ = hello_.broker_id;
    size_t others = 0;
    for (const auto& c : m_.conns_)
      if (c.get() != this && c->authenticated() && c->broker_id_ != broker_id_) ++others;
    if (others >= kMaxConnections)
      return refuse("too many replication connections (" + std::to_string(kMaxConnections) + ")");
    const Hello* h = &hello_;
    StoreStats stats = m_.d_.store->stats();
    Welcome w;
    w.master_min = stats.min_commit_log_offset.value();
    w.master_max = stats.max_commit_log_offset.value();
    w.epochs = m_.epochs_;
    m_.d_.log->info("slave {} (brokerId {}) hello: log ends at {}, last epoch {} at {}; master log [{}, {}) epoch {}",
                    sock_->peer(), h->broker_id, h->max_offset, h->last_epoch, h->last_epoch_start, w.master_min,
                    w.master_max, m_.epoch_);
    state_ = State::kStart;
    sock_->send(encode_welcome(w));
  }

  void on_start(std::string_view payload) {
    auto off = decode_offset(payload);
    if (!off) return refuse(off.status().message());
    StoreStats stats = m_.d_.store->stats();
    const int64_t max = stats.max_commit_log_offset.value();
    const int64_t min = stats.min_commit_log_offset.value();
    if (*off > max)
      return refuse("your log ends at " + std::to_string(*off) + ", beyond the master's end " + std::to_string(max) +
                    "; it should have been truncated to the last common point (check ha.epoch on both brokers)");
    if (*off < min)
      return refuse("your log ends at " + std::to_string(*off) + " but the master's log starts at " +
                    std::to_string(min) + " (older segments were deleted); rebuild the slave from an empty store");
    // A reconnecting slave replaces its previous (half-open) connection.
    for (const auto& c : m_.conns_)
      if (c.get() != this && c->broker_id_ == broker_id_ && c->state_ != State::kClosed)
        c->close("replaced by a new connection of the same slave");
    next_offset_ = *off;
    acked_ = *off;
    state_ = State::kStreaming;
    m_.d_.log->info("slave brokerId {} at {} streaming from offset {} (master end {}, lag {} bytes)", broker_id_,
                    sock_->peer(), *off, max, max - *off);
    m_.update_slave(this);
    m_.complete_acked(acked_);
    m_.next_metadata_check_ = Clock::now();  // push metadata soon
    pump();
  }

  void on_ack(std::string_view payload) {
    auto off = decode_offset(payload);
    if (!off) return close(off.status().message());
    const int64_t max = m_.d_.store->stats().max_commit_log_offset.value();
    if (*off > next_offset_ || *off > max) {
      m_.disconnected_for_bad_ack_.fetch_add(1);
      m_.d_.log->error(
          "slave brokerId {} at {} acknowledged offset {} but only {} was sent (master end {}): disconnecting, the ack "
          "does not count",
          broker_id_, sock_->peer(), *off, next_offset_, max);
      return close("acknowledged an offset beyond what was sent");
    }
    if (*off <= acked_) return;
    acked_ = *off;
    m_.update_slave(this);
    m_.complete_acked(acked_);
  }

  void on_chunk(Result<RawChunk> chunk, int64_t) {
    chunk_in_flight_ = false;
    if (state_ != State::kStreaming) return;
    if (!chunk) {
      m_.d_.log->error("cannot read the commit log at {} for slave brokerId {}: {}", next_offset_, broker_id_,
                       chunk.status().message());
      return close("read_raw failed: " + chunk.status().message());
    }
    if (chunk->bytes.empty()) {
      if (repump_) pump();
      return;
    }
    const int64_t from = next_offset_;
    const int64_t master_max = std::max(chunk->next_offset.value(), m_.d_.store->stats().max_commit_log_offset.value());
    std::vector<std::string> frame;
    frame.push_back(encode_data_header(from, master_max, chunk->bytes.size()));
    frame.push_back(std::move(chunk->bytes));
    next_offset_ = chunk->next_offset.value();
    sock_->send(std::move(frame));
    pump();
  }

  void on_closed(const std::string& why) {
    if (state_ == State::kStreaming || state_ == State::kStart || broker_id_ != 0)
      m_.d_.log->warn("replication connection of slave brokerId {} at {} closed: {}", broker_id_, sock_->peer(), why);
    state_ = State::kClosed;
    m_.remove(this);
  }

  HaMaster& m_;
  std::shared_ptr<FramedSocket> sock_;
  State state_ = State::kHello;
  int64_t broker_id_ = 0;
  Hello hello_;               // the slave's hello (kAuth and later)
  std::string master_nonce_;  // this connection's challenge
  Clock::time_point accepted_at_ = Clock::now();
  int64_t next_offset_ = 0;  // the next byte to send
  int64_t acked_ = -1;
  bool chunk_in_flight_ = false;
  bool repump_ = false;
  size_t metadata_hash_ = 0;
  Clock::time_point metadata_sent_at_{};
};

HaMaster::HaMaster(HaDeps deps) : d_(std::move(deps)) {}

HaMaster::~HaMaster() {
  stop();
}

Status HaMaster::start() {
  const std::string epoch_path = d_.identity.store_root + "/ha.epoch";
  auto loaded = load_epochs(epoch_path);
  if (!loaded) return loaded.status();
  // The epoch starts where recovery left the log, not at the end seen now: plugins started
  // before ha-sync (schedule, transaction) may have put already, and those bytes belong to
  // the new epoch (a slave holding other bytes there must truncate them).
  const StoreStats at_start = d_.store->stats();
  int64_t end = at_start.max_commit_log_offset.value();
  if (at_start.recovered_commit_log_offset.value() >= 0)
    end = std::min(end, at_start.recovered_commit_log_offset.value());
  epochs_ = begin_master_epoch(std::move(*loaded), end);
  epoch_ = epochs_.back().epoch;
  if (Status st = save_epochs(epoch_path, epochs_); !st) return Status::system("[ha-sync] " + st.message());

  boost::system::error_code ec;
  auto addr = asio::ip::make_address(d_.options.listen_address, ec);
  if (ec) return Status::invalid("[ha-sync] haListenAddress=" + d_.options.listen_address + " is not an IP address");
  asio::ip::tcp::endpoint ep(addr, d_.options.listen_port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::error(Code::kServiceNotAvailable, "[ha-sync] cannot listen on " + d_.options.listen_address + ":" +
                                                         std::to_string(d_.options.listen_port) + ": " + ec.message() +
                                                         "; change haListenPort");
  port_ = acceptor_.local_endpoint().port();
  if (Status st = write_file_durably(d_.identity.store_root + "/ha.port", std::to_string(port_) + "\n"); !st)
    return Status::system("[ha-sync] " + st.message());

  running_.store(true);
  io_work_.emplace(io_.get_executor());
  transfer_work_.emplace(transfer_.get_executor());
  accept();
  timer_.expires_after(std::chrono::milliseconds(0));
  timer_.async_wait([this](boost::system::error_code e) {
    if (!e) tick();
  });
  io_thread_ = std::thread([this] { io_.run(); });
  transfer_thread_ = std::thread([this] { transfer_.run(); });
  d_.log->info("{} listening for slaves on port {}; epoch {} starts at commit-log offset {}",
               role_name(d_.options.role), port_, epoch_, end);
  return Status::ok();
}

void HaMaster::stop() {
  if (!running_.exchange(false)) return;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    timer_.cancel();
    auto conns = conns_;
    for (const auto& c : conns) c->close("master stopping");
  });
  io_work_.reset();
  transfer_work_.reset();
  if (io_thread_.joinable()) io_thread_.join();
  transfer_.stop();
  if (transfer_thread_.joinable()) transfer_thread_.join();
  io_.stop();
  conns_.clear();
  for (auto& done : waiters_.close())
    done(Status(Code::kFlushSlaveTimeout, "master '" + d_.identity.broker_name + "' is stopping; not replicated yet"));
  d_.log->info("replication master stopped");
}

void HaMaster::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !running_.load()) return;
      d_.log->warn("accepting a replication connection failed: {}", ec.message());
    } else {
      const auto handshaking =
          std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->handshaking(); });
      if (static_cast<size_t>(handshaking) >= kMaxHandshaking) {
        refused_.fetch_add(1);
        d_.log->warn("refused a replication connection: {} connections are still in the handshake", handshaking);
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        auto c = std::make_shared<MasterConnection>(*this, std::move(socket));
        conns_.insert(c);
        c->start();
      }
    }
    accept();
  });
}

void HaMaster::tick() {
  if (!running_.load()) return;
  const auto now = Clock::now();
  auto conns = conns_;
  for (const auto& c : conns) c->tick(now);
  for (auto& done : waiters_.take_expired(now))
    done(Status(Code::kFlushSlaveTimeout, "no slave acknowledged the message within haSyncTimeoutMs=" +
                                              std::to_string(d_.options.sync_timeout_ms) +
                                              " ms (it is stored on "
                                              "the master)"));
  if (now >= next_metadata_check_) {
    next_metadata_check_ =
        now + std::min<std::chrono::milliseconds>(kMetadataCheckPeriod,
                                                  std::chrono::milliseconds(d_.options.metadata_sync_interval_ms));
    refresh_metadata();
  }
  auto period = std::clamp<int64_t>(d_.options.sync_timeout_ms / 10, 1, 20);
  timer_.expires_after(std::chrono::milliseconds(period));
  timer_.async_wait([this](boost::system::error_code e) {
    if (!e) tick();
  });
}

void HaMaster::pump_all() {
  auto conns = conns_;
  for (const auto& c : conns) c->pump();
}

void HaMaster::refresh_metadata() {
  if (metadata_in_flight_) return;
  bool any = std::any_of(conns_.begin(), conns_.end(),
                         [](const auto& c) { return c->state() == MasterConnection::State::kStreaming; });
  if (!any) return;
  metadata_in_flight_ = true;
  asio::post(transfer_, [this] {
    auto json = d_.context->export_metadata();
    Metadata m;
    if (json) m.json = std::move(*json);
    m.delay_offsets = read_file_if_exists(d_.identity.store_root + "/config/delayOffset.json", &m.has_delay_offsets);
    // Read after the export: every offset the metadata names lies below this end.
    m.master_end = d_.store->stats().max_commit_log_offset.value();
    std::string frame;
    size_t hash = 0;
    if (json) {
      frame = encode_metadata(m);
      // Content only (not master_end, which moves with every put): unchanged metadata is
      // re-sent once per haMetadataSyncInterval, not on every check.
      hash = std::hash<std::string>{}(m.json + '\0' + (m.has_delay_offsets ? "1" : "0") + m.delay_offsets);
    } else {
      d_.log->debug("metadata not exported: {}", json.status().message());
    }
    asio::post(io_, [this, frame = std::move(frame), hash] {
      metadata_in_flight_ = false;
      if (frame.empty()) return;
      const auto now = Clock::now();
      for (const auto& c : conns_) c->send_metadata(frame, hash, now);
    });
  });
}

void HaMaster::after_store(const StoredRange& stored, std::function<void(Status)> done) {
  if (!wake_pending_.exchange(true)) {
    asio::post(io_, [this] {
      wake_pending_.store(false);
      pump_all();
    });
  }
  if (d_.options.role != Role::kSyncMaster) return done(Status::ok());
  if (!running_.load())
    return done(Status(Code::kSlaveNotAvailable, "master '" + d_.identity.broker_name + "' is not replicating"));
  const int64_t end = stored.end.value();
  const int64_t best = best_acked_.load();
  if (best < 0)
    return done(Status(Code::kSlaveNotAvailable, "no slave is connected to master '" + d_.identity.broker_name +
                                                     "' (message stored on the master only)"));
  if (end - best > d_.options.slave_fallbehind_max)
    return done(Status(Code::kSlaveNotAvailable, "the best slave is " + std::to_string(end - best) +
                                                     " bytes behind, more than haSlaveFallbehindMax=" +
                                                     std::to_string(d_.options.slave_fallbehind_max)));
  auto deadline = Clock::now() + std::chrono::milliseconds(d_.options.sync_timeout_ms);
  switch (waiters_.add(end, deadline, done)) {
    case SyncWaiters::Added::kHeld:
      return;
    case SyncWaiters::Added::kAlreadyAcked:
      return done(Status::ok());
    case SyncWaiters::Added::kClosed:  // stop() ran after the running_ check above
      return done(
          Status(Code::kFlushSlaveTimeout, "master '" + d_.identity.broker_name + "' is stopping; not replicated yet"));
  }
}

std::chrono::milliseconds HaMaster::handshake_deadline() const {
  return std::chrono::milliseconds(d_.options.handshake_timeout_ms);
}

void HaMaster::complete_acked(int64_t offset) {
  for (auto& done : waiters_.acked(offset)) done(Status::ok());
}

void HaMaster::update_slave(MasterConnection* c) {
  int64_t best = -1;
  for (const auto& x : conns_)
    if (x->state() == MasterConnection::State::kStreaming) best = std::max(best, x->acked());
  best_acked_.store(best);
  std::lock_guard lock(status_mu_);
  if (c->state() == MasterConnection::State::kStreaming) {
    status_[c->broker_id()] = SlaveStatus{c->peer(), c->acked()};
  }
}

void HaMaster::remove(MasterConnection* c) {
  for (auto it = conns_.begin(); it != conns_.end(); ++it) {
    if (it->get() != c) continue;
    auto keep = *it;  // destroyed after this function returns
    conns_.erase(it);
    bool still = std::any_of(conns_.begin(), conns_.end(), [&](const auto& x) {
      return x->broker_id() == c->broker_id() && x->state() == MasterConnection::State::kStreaming;
    });
    if (!still) {
      std::lock_guard lock(status_mu_);
      status_.erase(c->broker_id());
    }
    update_slave(c);
    asio::post(io_, [keep] {});
    return;
  }
}

size_t HaMaster::slave_count() const {
  std::lock_guard lock(status_mu_);
  return status_.size();
}

std::map<std::string, std::string> HaMaster::runtime_info() const {
  std::map<std::string, std::string> out;
  const int64_t max = d_.store->stats().max_commit_log_offset.value();
  out["haRole"] = role_name(d_.options.role);
  out["haEpoch"] = std::to_string(epoch_);
  out["haListenPort"] = std::to_string(port_);
  out["haMasterMaxOffset"] = std::to_string(max);
  out["haBestAckedOffset"] = std::to_string(best_acked_.load());
  out["haSyncWaiting"] = std::to_string(waiters_.size());
  out["haRefusedConnections"] = std::to_string(refused_.load());
  out["haBadAckDisconnects"] = std::to_string(disconnected_for_bad_ack_.load());
  std::lock_guard lock(status_mu_);
  out["haSlaveCount"] = std::to_string(status_.size());
  for (const auto& [id, s] : status_) {
    std::string k = "haSlave." + std::to_string(id) + ".";
    out[k + "address"] = s.address;
    out[k + "ackedOffset"] = std::to_string(s.acked);
    out[k + "lag"] = std::to_string(std::max<int64_t>(0, max - s.acked));
  }
  return out;
}

}  // namespace mq::ha
