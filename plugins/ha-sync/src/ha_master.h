// HaMaster: the master side of replication. Accepts slaves on the HA port, checks their
// handshake, streams commit-log bytes from each slave's offset, counts their acks, holds
// SYNC_MASTER replies until a slave acknowledged them, and pushes metadata.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <spdlog/logger.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "epoch_file.h"
#include "ha_options.h"
#include "mq/broker_context.h"
#include "mq/host.h"
#include "mq/message_store.h"
#include "mq/put_pipeline.h"
#include "sync_waiters.h"

namespace mq::ha {

struct HaDeps {
  HaOptions options;
  BrokerIdentity identity;
  std::shared_ptr<MessageStore> store;
  std::shared_ptr<BrokerContext> context;
  std::shared_ptr<spdlog::logger> log;
};

class MasterConnection;

// Threading: one network thread ("ha-master-io") runs every socket and timer; a second
// ("ha-transfer") runs read_raw and the metadata export, so disk reads never stall the
// network thread. after_store and the getters are safe from any thread.
class HaMaster {
 public:
  explicit HaMaster(HaDeps deps);
  ~HaMaster();
  HaMaster(const HaMaster&) = delete;
  HaMaster& operator=(const HaMaster&) = delete;

  // Opens a new epoch (durably, in <storeRoot>/ha.epoch), listens on haListenPort and writes
  // the bound port to <storeRoot>/ha.port. The store must be started.
  Status start();
  // Closes every connection, completes every held reply with FLUSH_SLAVE_TIMEOUT and joins
  // the threads. Idempotent.
  void stop();

  // The after-store hook: wakes the transfers; under SYNC_MASTER completes `done` once a
  // slave acknowledged stored.end (see README.md "SYNC_MASTER").
  void after_store(const StoredRange& stored, std::function<void(Status)> done);

  uint16_t port() const { return port_; }
  int64_t epoch() const { return epoch_; }
  const EpochList& epochs() const { return epochs_; }
  // Streaming slaves and the highest offset one of them acknowledged (-1: no slave).
  size_t slave_count() const;
  int64_t best_acked() const { return best_acked_.load(); }
  size_t waiting() const { return waiters_.size(); }
  std::map<std::string, std::string> runtime_info() const;

 private:
  friend class MasterConnection;
  struct SlaveStatus {
    std::string address;
    int64_t acked = 0;
  };

  void accept();
  void tick();
  void pump_all();
  void refresh_metadata();
  // Network thread: a connection's state changed; recomputes best_acked_ and status.
  void update_slave(MasterConnection* c);
  void remove(MasterConnection* c);
  void complete_acked(int64_t offset);
  std::chrono::milliseconds handshake_deadline() const;

  HaDeps d_;
  boost::asio::io_context io_;
  boost::asio::io_context transfer_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> io_work_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> transfer_work_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  boost::asio::steady_timer timer_{io_};
  std::thread io_thread_;
  std::thread transfer_thread_;
  uint16_t port_ = 0;
  int64_t epoch_ = 0;
  EpochList epochs_;

  // Network thread only.
  std::set<std::shared_ptr<MasterConnection>> conns_;
  bool metadata_in_flight_ = false;
  std::chrono::steady_clock::time_point next_metadata_check_{};

  mutable std::mutex status_mu_;
  std::map<int64_t, SlaveStatus> status_;  // broker id -> status; guarded by status_mu_
  std::atomic<int64_t> best_acked_{-1};
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> disconnected_for_bad_ack_{0};
  SyncWaiters waiters_;
};

}  // namespace mq::ha
