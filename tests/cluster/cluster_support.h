// Shared pieces of the cluster tests: a two-name-server, two-broker cluster of real processes
// on loopback, wire-level topic/route helpers, and a thread-safe log of consumer deliveries.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mq/client/message.h"
#include "mq_types.h"
#include "support/broker_admin.h"
#include "support/broker_process.h"

namespace mq::testing {

// Name servers ns0, ns1 and brokers broker-a, broker-b; each broker registers with both name
// servers. Everything is killed by the destructor (ChildProcess) and the directory removed.
// broker_global: extra global config keys for every broker (e.g. short client/lock expiry).
class Cluster {
 public:
  explicit Cluster(int brokers = 2, int name_servers = 2, std::map<std::string, std::string> broker_global = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts every name server, then every broker (once). Throws std::runtime_error with the log.
  void start();
  // "host:port;host:port" of every name server, as clients are configured.
  std::string namesrv_list() const;
  NamesrvProcess& name_server(int i) { return *name_servers_.at(static_cast<size_t>(i)); }
  BrokerProcess& broker(int i) { return *brokers_.at(static_cast<size_t>(i)); }
  std::string broker_name(int i) const;
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  int broker_count_;
  std::map<std::string, std::string> broker_global_;
  std::vector<std::unique_ptr<NamesrvProcess>> name_servers_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
};

// create_topic, wait_for_route(namesrv, topic), committed_offset: support/broker_admin.h.

// Names of the brokers with write queues for `topic` in the name server's route ({} on error).
std::set<std::string> route_brokers(const std::string& namesrv_addr, const std::string& topic);

// Waits until the name server routes `topic` to exactly `brokers`.
bool wait_for_route(const std::string& namesrv_addr, const std::string& topic, const std::set<std::string>& brokers,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The broker's getConsumeStats for a group and topic ({} on error).
std::vector<wire::QueueConsumeStat> consume_stats(const std::string& broker_addr, const std::string& group,
                                                  const std::string& topic);

// "<broker store host>#<queue id>": one queue, as seen in a delivered message.
std::string queue_key(const client::MessageExt& message);

// Every delivery seen by the consumers of a test, tagged with the test's phase at that time.
class DeliveryLog {
 public:
  struct Entry {
    std::string member;
    std::string body;
    std::string queue;  // queue_key()
    int phase = 0;
  };

  void record(const std::string& member, const client::MessageExt& message);
  void set_phase(int phase) { phase_.store(phase); }
  int phase() const { return phase_.load(); }

  std::vector<Entry> entries() const;
  size_t total() const;
  // Bodies delivered at least once (to any member).
  std::set<std::string> distinct_bodies() const;
  size_t distinct_count() const;
  // Bodies delivered to `member` at least once.
  std::set<std::string> bodies_of(const std::string& member) const;
  // body -> number of deliveries, for bodies delivered more than once.
  std::map<std::string, int> duplicates() const;
  // Queues `member` received messages from during `phase`.
  std::set<std::string> queues_of(const std::string& member, int phase) const;

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  std::map<std::string, int> count_by_body_;
  std::atomic<int> phase_{0};
};

}  // namespace mq::testing
