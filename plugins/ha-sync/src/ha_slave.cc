// HaSlave (see ha_slave.h, README.md "Protocol" and "Epochs and divergence").
#include "ha_slave.h"

#include <algorithm>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "framed_socket.h"
#include "hmac_sha256.h"

namespace mq::ha {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

HaSlave::HaSlave(HaDeps deps) : d_(std::move(deps)) {}

HaSlave::~HaSlave() {
  stop();
}

Status HaSlave::start() {
  auto hp = parse_host_port("haMasterAddress", d_.options.master_address);
  if (!hp) return hp.status();
  host_ = hp->first;
  port_ = hp->second;
  auto loaded = load_epochs(d_.identity.store_root + "/ha.epoch");
  if (!loaded) return Status::system("[ha-sync] " + loaded.status().message());
  epochs_ = std::move(*loaded);
  running_.store(true);
  work_.emplace(io_.get_executor());
  asio::post(io_, [this] {
    connect();
    tick();
  });
  thread_ = std::thread([this] { io_.run(); });
  d_.log->info("SLAVE of {}: replicating from master HA port {}", d_.identity.broker_name, d_.options.master_address);
  return Status::ok();
}

void HaSlave::stop() {
  if (!running_.exchange(false)) return;
  // Cancel everything, including a resolve or connect to an unreachable master (SYN
  // retries would otherwise keep run() busy for minutes), then stop the loop outright.
  asio::post(io_, [this] {
    timer_.cancel();
    reconnect_timer_.cancel();
    cancel_connect();
    if (sock_) sock_->close("slave stopping");
    io_.stop();
  });
  work_.reset();
  if (thread_.joinable()) thread_.join();
  io_.stop();
  resolver_.reset();
  connecting_socket_.reset();
  sock_.reset();
  streaming_.store(false);
}

void HaSlave::set_error(const std::string& why) {
  std::lock_guard lock(error_mu_);
  last_error_ = why;
}

std::string HaSlave::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

void HaSlave::cancel_connect() {
  if (resolver_) resolver_->cancel();
  if (connecting_socket_) {
    boost::system::error_code ignored;
    connecting_socket_->close(ignored);
  }
}

void HaSlave::connect() {
  if (!running_.load() || connecting_ || sock_) return;
  connecting_ = true;
  connect_started_ = Clock::now();
  resolver_.emplace(io_);
  connecting_socket_.emplace(io_);
  resolver_->async_resolve(
      host_, std::to_string(port_),
      [this](boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (!running_.load()) return;
        if (ec) {
          connecting_ = false;
          return session_failed("cannot resolve " + d_.options.master_address + ": " + ec.message());
        }
        asio::async_connect(*connecting_socket_, results, [this](boost::system::error_code ec2, const auto&) {
          connecting_ = false;
          if (!running_.load()) return;
          if (ec2) return session_failed("cannot connect to " + d_.options.master_address + ": " + ec2.message());
          sock_ = std::make_shared<FramedSocket>(std::move(*connecting_socket_), kMaxMasterFrame);
          connecting_socket_.reset();
          auto me = sock_.get();
          sock_->start([this](FrameType t, std::string_view p) { on_frame(t, p); },
                       [this, me](const std::string& why) {
                         if (sock_.get() == me) session_failed(why);
                       });
          local_end_ = d_.store->stats().max_commit_log_offset.value();
          EpochList own = entries_below(epochs_, local_end_);
          Hello h;
          h.cluster = d_.identity.cluster_name;
          h.broker_name = d_.identity.broker_name;
          h.broker_id = d_.identity.broker_id;
          h.max_offset = local_end_;
          h.last_epoch = own.empty() ? 0 : own.back().epoch;
          h.last_epoch_start = own.empty() ? 0 : own.back().start;
          nonce_ = random_bytes(kNonceBytes);
          h.nonce = nonce_;
          awaiting_challenge_ = true;
          awaiting_welcome_ = false;
          sock_->send(encode_hello(h));
        });
      });
}

void HaSlave::session_failed(const std::string& why, bool config_error) {
  const bool was_streaming = streaming_.exchange(false);
  awaiting_challenge_ = false;
  awaiting_welcome_ = false;
  pending_metadata_.reset();  // the next session (maybe another master) sends its own
  if (sock_) {
    auto s = std::move(sock_);
    sock_.reset();
    s->close(why);
  }
  if (!running_.load()) return;
  set_error(why);
  if (was_streaming || config_error) {
    d_.log->warn("replication from {} stopped: {}; reconnecting", d_.options.master_address, why);
  } else {
    d_.log->debug("replication from {} not established: {}", d_.options.master_address, why);
  }
  if (was_streaming) backoff_ms_ = 100;
  const int64_t wait = config_error ? d_.options.reconnect_max_ms : backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, d_.options.reconnect_max_ms);
  reconnect_timer_.expires_after(std::chrono::milliseconds(wait));
  reconnect_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) connect();
  });
}

void HaSlave::on_frame(FrameType type, std::string_view payload) {
  if (type == FrameType::kRefuse) {
    auto reason = decode_refuse(payload);
    std::string why = "master " + d_.options.master_address +
                      " refused this slave: " + (reason ? *reason : std::string("(unreadable reason)"));
    d_.log->error("{}", why);
    return session_failed(why, /*config_error=*/true);
  }
  if (awaiting_challenge_) {
    if (type != FrameType::kChallenge) return session_failed("expected a challenge frame");
    return on_challenge(payload);
  }
  if (awaiting_welcome_) {
    if (type != FrameType::kWelcome) return session_failed("expected a welcome frame");
    return on_welcome(payload);
  }
  switch (type) {
    case FrameType::kData:
      return on_data(payload);
    case FrameType::kMetadata:
      return on_metadata(payload);
    default:
      return session_failed("unexpected frame type " + std::to_string(int(type)) + " from the master");
  }
}

void HaSlave::on_challenge(std::string_view payload) {
  auto c = decode_challenge(payload);
  if (!c) return session_failed("bad challenge: " + c.status().message());
  // The master must prove it knows haSecret before this slave obeys it (a WELCOME can make
  // the slave truncate its log).
  if (!secrets_equal(c->proof, master_proof(d_.options.secret, nonce_, c->nonce))) {
    std::string why = "the peer at haMasterAddress=" + d_.options.master_address +
                      " failed to prove it knows haSecret (wrong secret on one side, or not the master): not "
                      "replicating from it";
    d_.log->error("{}", why);
    return session_failed(why, /*config_error=*/true);
  }
  awaiting_challenge_ = false;
  awaiting_welcome_ = true;
  sock_->send(encode_auth(slave_proof(d_.options.secret, nonce_, c->nonce)));
}

void HaSlave::on_welcome(std::string_view payload) {
  auto w = decode_welcome(payload);
  if (!w) return session_failed("bad welcome: " + w.status().message());
  awaiting_welcome_ = false;
  master_max_.store(w->master_max);
  local_end_ = d_.store->stats().max_commit_log_offset.value();
  const int64_t point = common_point(epochs_, local_end_, w->epochs, w->master_max);
  if (point < local_end_) {
    d_.log->warn(
        "this slave's log [.., {}) diverges from the master's (master end {}, epochs differ after offset {}): "
        "truncating to {}",
        local_end_, w->master_max, point, point);
    auto r = d_.store->truncate_to(CommitLogOffset(point));
    if (!r)
      return session_failed(
          "truncating the diverged tail to " + std::to_string(point) + " failed: " + r.status().message(), true);
    truncations_.fetch_add(1);
    local_end_ = r->value();
  }
  epochs_ = w->epochs;
  if (Status st = save_epochs(d_.identity.store_root + "/ha.epoch", epochs_); !st)
    return session_failed("cannot save the master's epochs: " + st.message(), true);
  if (local_end_ < w->master_min)
    return session_failed("this slave's log ends at " + std::to_string(local_end_) + " but the master's starts at " +
                              std::to_string(w->master_min) +
                              " (deleted by retention); rebuild the slave from an "
                              "empty store",
                          true);
  sock_->send(encode_offset_frame(FrameType::kStart, local_end_));
  last_ack_ = Clock::now();
  session_start_.store(local_end_);
  sessions_.fetch_add(1);
  streaming_.store(true);
  backoff_ms_ = 100;
  set_error("");
  d_.log->info("replicating from master {} (epoch {}): resuming from offset {}, master end {}",
               d_.options.master_address, w->epochs.empty() ? 0 : w->epochs.back().epoch, local_end_, w->master_max);
}

void HaSlave::on_data(std::string_view payload) {
  auto data = decode_data(payload);
  if (!data) return session_failed(data.status().message());
  master_max_.store(data->master_max);
  if (data->bytes.empty()) {  // heartbeat
    return;
  }
  if (data->from != local_end_)
    return session_failed("master sent bytes at offset " + std::to_string(data->from) + " but this log ends at " +
                          std::to_string(local_end_));
  auto end = d_.store->append_raw(CommitLogOffset(data->from), data->bytes);
  if (!end) return session_failed("append_raw at " + std::to_string(data->from) + " failed: " + end.status().message());
  local_end_ = end->value();
  bytes_received_.fetch_add(data->bytes.size());
  sock_->send(encode_offset_frame(FrameType::kAck, local_end_));
  last_ack_ = Clock::now();
  apply_metadata_if_reached();
}

void HaSlave::on_metadata(std::string_view payload) {
  auto m = decode_metadata(payload);
  if (!m) return session_failed(m.status().message());
  // Consumer offsets and delay progress may name messages this log does not hold yet;
  // applied now they would let a promoted slave skip them. Keep the latest until then.
  if (m->master_end > local_end_) metadata_deferred_.fetch_add(1);
  pending_metadata_ = std::move(*m);
  apply_metadata_if_reached();
}

void HaSlave::apply_metadata_if_reached() {
  if (!pending_metadata_ || pending_metadata_->master_end > local_end_) return;
  Metadata m = std::move(*pending_metadata_);
  pending_metadata_.reset();
  if (Status st = d_.context->import_metadata(m.json); !st) {
    d_.log->warn("importing the master's metadata failed: {}", st.message());
  } else {
    metadata_imports_.fetch_add(1);
  }
  if (m.has_delay_offsets) {
    size_t h = std::hash<std::string>{}(m.delay_offsets);
    if (h != delay_offsets_hash_) {
      std::string path = d_.identity.store_root + "/config/delayOffset.json";
      if (Status st = write_file_durably(path, m.delay_offsets); !st) {
        d_.log->warn("writing the master's delay offsets to {} failed: {}", path, st.message());
      } else {
        delay_offsets_hash_ = h;
      }
    }
  }
}

void HaSlave::tick() {
  if (!running_.load()) return;
  const auto now = Clock::now();
  if (connecting_ && now - connect_started_ > std::chrono::milliseconds(d_.options.housekeeping_interval_ms)) {
    cancel_connect();  // the handler reports operation_aborted and retries with backoff
  } else if (sock_ && !sock_->closed()) {
    const auto hk = std::chrono::milliseconds(d_.options.housekeeping_interval_ms);
    if (now - sock_->last_read() > hk) {
      session_failed("master silent for more than haHousekeepingInterval=" + std::to_string(hk.count()) + " ms");
    } else if (streaming_.load() && now - last_ack_ >= std::chrono::milliseconds(d_.options.heartbeat_interval_ms)) {
      sock_->send(encode_offset_frame(FrameType::kAck, local_end_));
      last_ack_ = now;
    }
  }
  timer_.expires_after(std::chrono::milliseconds(std::clamp<int64_t>(d_.options.heartbeat_interval_ms / 5, 10, 1000)));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

std::map<std::string, std::string> HaSlave::runtime_info() const {
  std::map<std::string, std::string> out;
  const int64_t local = d_.store->stats().max_commit_log_offset.value();
  const int64_t master = master_max_.load();
  out["haRole"] = "SLAVE";
  out["haMasterAddress"] = d_.options.master_address;
  out["haConnected"] = streaming_.load() ? "true" : "false";
  out["haReplicatedOffset"] = std::to_string(local);
  out["haMasterMaxOffset"] = std::to_string(master);
  out["haLag"] = std::to_string(std::max<int64_t>(0, master - local));
  out["haBytesReceived"] = std::to_string(bytes_received_.load());
  out["haSessionStartOffset"] = std::to_string(session_start_.load());
  out["haSessions"] = std::to_string(sessions_.load());
  out["haTruncations"] = std::to_string(truncations_.load());
  out["haMetadataImports"] = std::to_string(metadata_imports_.load());
  out["haMetadataDeferred"] = std::to_string(metadata_deferred_.load());
  if (std::string e = last_error(); !e.empty()) out["haLastError"] = e;
  return out;
}

}  // namespace mq::ha
