// HaSlave: the slave side of replication. Connects to the master's HA port, hands over
// its log end and epoch, truncates a diverged tail, appends what the master streams
// (append_raw), acknowledges it, imports the master's metadata, and reconnects with
// backoff. Also the before-store hook that refuses sends on a slave.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "epoch_file.h"
#include "ha_master.h"  // HaDeps
#include "mq/put_pipeline.h"
#include "wire.h"

namespace mq::ha {

class FramedSocket;

// Threading: one thread ("ha-slave-io") runs the connection, the appends (the slave's own
// store, no client waits on it) and the metadata import. Getters are safe from any thread.
class HaSlave {
 public:
  explicit HaSlave(HaDeps deps);
  ~HaSlave();
  HaSlave(const HaSlave&) = delete;
  HaSlave& operator=(const HaSlave&) = delete;

  // Loads <storeRoot>/ha.epoch and starts connecting. The store must be started.
  Status start();
  void stop();

  bool connected() const { return streaming_.load(); }
  int64_t master_max() const { return master_max_.load(); }
  uint64_t bytes_received() const { return bytes_received_.load(); }
  uint64_t truncations() const { return truncations_.load(); }
  uint64_t metadata_imports() const { return metadata_imports_.load(); }
  // METADATA frames held because they named a master end beyond this log's end.
  uint64_t metadata_deferred() const { return metadata_deferred_.load(); }
  uint64_t sessions() const { return sessions_.load(); }
  // The offset the current (or last) session started streaming from.
  int64_t session_start_offset() const { return session_start_.load(); }
  std::string last_error() const;
  std::map<std::string, std::string> runtime_info() const;

 private:
  void connect();
  void on_frame(FrameType type, std::string_view payload);
  void on_challenge(std::string_view payload);
  void on_welcome(std::string_view payload);
  // Applies the held metadata frame once this log reached its master_end.
  void apply_metadata_if_reached();
  // Cancels an in-flight resolve/connect (io thread).
  void cancel_connect();
  void on_data(std::string_view payload);
  void on_metadata(std::string_view payload);
  void session_failed(const std::string& why, bool config_error = false);
  void tick();
  void set_error(const std::string& why);

  HaDeps d_;
  std::string host_;
  uint16_t port_ = 0;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::steady_timer timer_{io_};
  boost::asio::steady_timer reconnect_timer_{io_};
  std::thread thread_;

  // io thread only
  std::shared_ptr<FramedSocket> sock_;
  // The resolve/connect in flight (members so stop() and the connect timeout can cancel them).
  std::optional<boost::asio::ip::tcp::resolver> resolver_;
  std::optional<boost::asio::ip::tcp::socket> connecting_socket_;
  std::chrono::steady_clock::time_point connect_started_{};
  bool awaiting_challenge_ = false;
  bool awaiting_welcome_ = false;
  std::string nonce_;                         // this session's challenge to the master
  std::optional<Metadata> pending_metadata_;  // latest frame ahead of this log's end
  int64_t local_end_ = 0;
  int64_t backoff_ms_ = 100;
  bool connecting_ = false;
  std::chrono::steady_clock::time_point last_ack_{};
  size_t delay_offsets_hash_ = 0;
  EpochList epochs_;

  std::atomic<bool> running_{false};
  std::atomic<bool> streaming_{false};
  std::atomic<int64_t> master_max_{0};
  std::atomic<int64_t> session_start_{-1};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> truncations_{0};
  std::atomic<uint64_t> metadata_imports_{0};
  std::atomic<uint64_t> metadata_deferred_{0};
  std::atomic<uint64_t> sessions_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
};

// Before-store hook of a slave: every send is refused.
class SlaveRefusesSends final : public BeforeStoreHook {
 public:
  explicit SlaveRefusesSends(std::string broker_name) : broker_name_(std::move(broker_name)) {}
  Status before_store(StoredMessage&) override {
    return Status(Code::kServiceNotAvailable, "broker " + broker_name_ + " is a slave; send to the master");
  }

 private:
  std::string broker_name_;
};

}  // namespace mq::ha
