// HaCluster and the runtime / commit-log helpers of the replication tests.
#include "ha_cluster.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "cluster_support.h"
#include "mq/wire/client_channel.h"

namespace mq::testing {
namespace {

constexpr const char* kPlugins = "storage-mmap,transport-thrift,ha-sync";

// Short replication timings so a test sees failures and recoveries within seconds.
std::map<std::string, std::string> fast_ha_keys() {
  return {{"haSendHeartbeatInterval", "200"}, {"haHousekeepingInterval", "3000"}, {"haSyncTimeoutMs", "1500"},
          {"haMetadataSyncInterval", "1000"}, {"haReconnectMaxMs", "300"},        {"haSecret", "ha-test-secret"}};
}

}  // namespace

HaCluster::HaCluster(HaClusterOptions options) : dir_("mqha"), options_(std::move(options)) {
  name_server_ = std::make_unique<NamesrvProcess>(dir_.path() + "/ns");
}

HaCluster::~HaCluster() {
  // Resume paused brokers so the destructors' SIGKILL and reaping work; slaves first.
  for (auto& s : slaves_) s->signal(SIGCONT);
  for (auto& m : masters_) m->signal(SIGCONT);
  slaves_.clear();
  masters_.clear();
  name_server_.reset();
}

void HaCluster::start() {
  name_server_->start();
  for (int g = 0; g < options_.groups; ++g) {
    const int ha_port = pick_free_port();  // fixed, so a restarted master keeps it for its slave
    auto base = [&](int64_t broker_id, const std::string& role) {
      BrokerOptions o;
      o.broker_name = group_name(g);
      o.embedded_namesrv = false;
      o.namesrv_addr = name_server_->addr();
      o.plugins = kPlugins;
      o.global["brokerId"] = std::to_string(broker_id);
      o.global["registerNameServerPeriod"] = "1000";
      for (const auto& [k, v] : options_.global) o.global[k] = v;
      auto& store = o.sections["storage-mmap"];
      store["mapedFileSizeCommitLog"] = std::to_string(options_.commit_log_segment_bytes);
      store["mapedFileSizeConsumeQueue"] = std::to_string(20 * 4000);
      auto& ha = o.sections["ha-sync"];
      ha = fast_ha_keys();
      ha["brokerRole"] = role;
      if (broker_id == 0) {
        ha["haListenPort"] = std::to_string(ha_port);
      } else {
        ha["haMasterAddress"] = "127.0.0.1:" + std::to_string(ha_port);
      }
      for (const auto& [k, v] : options_.ha) ha[k] = v;
      return o;
    };
    // Masters and slaves share broker names, so they live under different roots.
    masters_.push_back(std::make_unique<BrokerProcess>(dir_.path() + "/masters", base(0, options_.master_role)));
    slaves_.push_back(std::make_unique<BrokerProcess>(dir_.path() + "/slaves", base(1, "SLAVE")));
  }
  for (auto& m : masters_) m->start();
  for (auto& s : slaves_) s->start();
}

std::string HaCluster::create_topic(const std::string& topic, int queues) {
  for (int g = 0; g < options_.groups; ++g) {
    if (std::string why = testing::create_topic(master(g).broker_addr(), topic, queues); !why.empty()) return why;
  }
  for (int g = 0; g < options_.groups; ++g) {
    auto listed = [&] {
      auto topics = broker_topics(slave(g).broker_addr());
      return std::find(topics.begin(), topics.end(), topic) != topics.end();
    };
    if (!eventually(listed, std::chrono::seconds(10)))
      return "slave of " + group_name(g) + " did not receive topic " + topic + " by metadata sync within 10 s";
    const std::map<int64_t, std::string> both = {{0, master(g).broker_addr()}, {1, slave(g).broker_addr()}};
    if (!eventually([&] { return routed_group(namesrv(), topic, group_name(g)) == both; }, std::chrono::seconds(10)))
      return "the name server does not route " + topic + " to " + group_name(g) + "'s master and slave";
  }
  return {};
}

std::map<std::string, std::string> runtime_info(const std::string& broker_addr) {
  try {
    auto channel = wire::ClientChannel::connect(broker_addr);
    wire::RuntimeInfoResponse response;
    channel->broker().getBrokerRuntimeInfo(response);
    return response.code == 0 ? response.info : std::map<std::string, std::string>{};
  } catch (const std::exception&) {
    return {};
  }
}

int64_t max_commit_log_offset(const std::string& broker_addr) {
  auto info = runtime_info(broker_addr);
  auto it = info.find("maxCommitLogOffset");
  return it == info.end() ? -1 : std::stoll(it->second);
}

std::vector<std::string> broker_topics(const std::string& broker_addr) {
  std::vector<std::string> out;
  try {
    auto channel = wire::ClientChannel::connect(broker_addr);
    wire::TopicListResponse response;
    channel->broker().getTopicList(response);
    for (const auto& t : response.topics) out.push_back(t.topicName);
  } catch (const std::exception&) {
  }
  return out;
}

std::string read_commit_log(const std::string& store_dir, int64_t from, int64_t to) {
  std::vector<std::pair<int64_t, std::string>> segments;  // start offset -> path
  for (const auto& entry : std::filesystem::directory_iterator(store_dir + "/commitlog")) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 20 || name.find_first_not_of("0123456789") != std::string::npos) continue;
    segments.emplace_back(std::stoll(name), entry.path().string());
  }
  std::sort(segments.begin(), segments.end());
  std::string out;
  int64_t at = from;
  for (const auto& [start, path] : segments) {
    if (at >= to) break;
    const int64_t size = static_cast<int64_t>(std::filesystem::file_size(path));
    if (at < start || at >= start + size) continue;
    const int64_t n = std::min(to, start + size) - at;
    std::ifstream in(path, std::ios::binary);
    in.seekg(at - start);
    std::string part(static_cast<size_t>(n), '\0');
    in.read(part.data(), n);
    if (in.gcount() != n) throw std::runtime_error("short read of " + path);
    out += part;
    at += n;
  }
  if (at < to)
    throw std::runtime_error("the commit log under " + store_dir + " does not cover offset " + std::to_string(at));
  return out;
}

std::map<int64_t, std::string> routed_group(const std::string& namesrv_addr, const std::string& topic,
                                            const std::string& broker_name) {
  try {
    auto channel = wire::ClientChannel::connect(namesrv_addr);
    wire::TopicRouteResponse route;
    channel->name_server().getRouteInfoByTopic(route, topic);
    for (const auto& b : route.brokers) {
      if (b.brokerName == broker_name) return b.brokerAddrs;
    }
  } catch (const std::exception&) {
  }
  return {};
}

}  // namespace mq::testing
