// HaCluster: a standalone mqnamesrv plus master/slave broker groups (real mqbroker processes
// loading storage-mmap, transport-thrift and ha-sync) on loopback, with short replication
// timeouts and small commit-log segments for fast tests; and helpers that read a broker's
// runtime figures and its commit-log bytes from disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/broker_process.h"

namespace mq::testing {

struct HaClusterOptions {
  int groups = 2;                               // broker-a, broker-b, ...
  std::string master_role = "SYNC_MASTER";      // or ASYNC_MASTER
  int64_t commit_log_segment_bytes = 16 << 10;  // small: a test's log spans several segments
  std::map<std::string, std::string> ha;        // extra / overriding [ha-sync] keys for every broker
  std::map<std::string, std::string> global;    // extra global keys for every broker
};

class HaCluster {
 public:
  explicit HaCluster(HaClusterOptions options = {});
  ~HaCluster();
  HaCluster(const HaCluster&) = delete;
  HaCluster& operator=(const HaCluster&) = delete;

  // Starts the name server, every master, then every slave. Throws with the process log.
  void start();
  std::string namesrv() const { return name_server_->addr(); }
  BrokerProcess& master(int group) { return *masters_.at(static_cast<size_t>(group)); }
  BrokerProcess& slave(int group) { return *slaves_.at(static_cast<size_t>(group)); }
  static std::string group_name(int group) { return std::string("broker-") + static_cast<char>('a' + group); }
  int groups() const { return options_.groups; }
  const std::string& dir() const { return dir_.path(); }

  // Creates `topic` on every master; waits until every slave lists it (metadata sync) and the
  // name server routes it to every group with both addresses. Returns "" or the reason.
  std::string create_topic(const std::string& topic, int queues);

 private:
  TempDir dir_;
  HaClusterOptions options_;
  std::unique_ptr<NamesrvProcess> name_server_;
  std::vector<std::unique_ptr<BrokerProcess>> masters_;
  std::vector<std::unique_ptr<BrokerProcess>> slaves_;
};

// getBrokerRuntimeInfo ({} when the broker does not answer).
std::map<std::string, std::string> runtime_info(const std::string& broker_addr);
// runtime_info()["maxCommitLogOffset"], -1 when unknown.
int64_t max_commit_log_offset(const std::string& broker_addr);
// Topics the broker lists (getTopicList).
std::vector<std::string> broker_topics(const std::string& broker_addr);
// Commit-log bytes [from, to) read from the segment files under <store_dir>/commitlog.
// Throws std::runtime_error when the files do not cover the range.
std::string read_commit_log(const std::string& store_dir, int64_t from, int64_t to);
// The broker group's addresses (id -> address) in the name server's route of `topic`.
std::map<int64_t, std::string> routed_group(const std::string& namesrv_addr, const std::string& topic,
                                            const std::string& broker_name);

}  // namespace mq::testing
