// NameServerCore: in-memory route tables (RocketMQ RouteInfoManager) and the expiry scan.
#include "namesrv/name_server_core.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

namespace mq::kernel {

struct NameServerCore::Impl {
  struct Live {
    std::string cluster;
    std::string broker_name;
    int64_t broker_id = 0;
    int64_t last_update_ms = 0;
    int64_t timeout_ms = 0;
    std::string role;  // as registered, or derived from broker_id
  };

  NameServerSettings settings;
  std::shared_ptr<spdlog::logger> log;

  // All tables are guarded by mu. Invariants: every broker name in `topics` and `clusters`
  // has an entry in `brokers` with at least one address; every address in `brokers` is in `live`.
  mutable std::shared_mutex mu;
  std::map<std::string, std::map<std::string, QueueData>> topics;  // topic -> broker name -> queues
  std::map<std::string, BrokerData> brokers;                       // broker name -> data
  std::map<std::string, std::set<std::string>> clusters;           // cluster -> broker names
  std::map<std::string, Live> live;                                // broker address -> liveness

  std::mutex scan_mu;
  std::condition_variable scan_cv;
  bool scan_stop = false;
  std::thread scan_thread;

  int64_t now_ms() const {
    if (settings.clock_ms) return settings.clock_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // Requires mu held exclusively.
  void remove_broker_name(const std::string& name) {
    auto it = brokers.find(name);
    if (it != brokers.end()) {
      auto cluster = clusters.find(it->second.cluster);
      if (cluster != clusters.end()) {
        cluster->second.erase(name);
        if (cluster->second.empty()) clusters.erase(cluster);
      }
      brokers.erase(it);
    }
    for (auto t = topics.begin(); t != topics.end();) {
      t->second.erase(name);
      t = t->second.empty() ? topics.erase(t) : std::next(t);
    }
  }

  // Requires mu held exclusively. Forgets one broker address; the broker name goes when
  // its last address does (with its queues: a slave leaving keeps the master's routes).
  void remove_address(const std::string& addr) {
    auto l = live.find(addr);
    if (l == live.end()) return;
    std::string name = l->second.broker_name;
    live.erase(l);
    auto b = brokers.find(name);
    if (b == brokers.end()) return;
    auto& addrs = b->second.broker_addrs;
    for (auto a = addrs.begin(); a != addrs.end();) a = a->second == addr ? addrs.erase(a) : std::next(a);
    if (addrs.empty()) remove_broker_name(name);
  }

  void scan_loop() {
    std::unique_lock lock(scan_mu);
    while (!scan_stop) {
      scan_cv.wait_for(lock, std::chrono::milliseconds(settings.scan_not_active_broker_interval_ms),
                       [this] { return scan_stop; });
      if (scan_stop) break;
      lock.unlock();
      expire(now_ms());
      lock.lock();
    }
  }

  int expire(int64_t now) {
    std::vector<std::pair<std::string, Live>> expired;
    {
      std::unique_lock lock(mu);
      for (const auto& [addr, info] : live) {
        if (now - info.last_update_ms > info.timeout_ms) expired.emplace_back(addr, info);
      }
      for (const auto& e : expired) remove_address(e.first);
    }
    for (const auto& [addr, info] : expired) {
      log->warn("broker expired name={} id={} addr={} silent_ms={} timeout_ms={}", info.broker_name, info.broker_id,
                addr, now - info.last_update_ms, info.timeout_ms);
    }
    return static_cast<int>(expired.size());
  }
};

NameServerCore::NameServerCore(NameServerSettings settings, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->log = std::move(log);
}

NameServerCore::~NameServerCore() { stop(); }

void NameServerCore::start() {
  std::lock_guard lock(impl_->scan_mu);
  if (impl_->scan_thread.joinable()) return;
  impl_->scan_stop = false;
  impl_->scan_thread = std::thread([this] { impl_->scan_loop(); });
}

void NameServerCore::stop() {
  {
    std::lock_guard lock(impl_->scan_mu);
    impl_->scan_stop = true;
  }
  impl_->scan_cv.notify_all();
  if (impl_->scan_thread.joinable()) impl_->scan_thread.join();
}

Status NameServerCore::register_broker(const BrokerRegistration& r) {
  if (r.cluster_name.empty() || r.broker_name.empty() || r.broker_addr.empty() || r.broker_id < 0) {
    return Status::invalid("register_broker: cluster_name, broker_name and broker_addr must be set and broker_id >= 0 "
                           "(got cluster='" + r.cluster_name + "' name='" + r.broker_name + "' addr='" +
                           r.broker_addr + "' id=" + std::to_string(r.broker_id) + ")");
  }
  const int64_t now = impl_->now_ms();
  bool is_new = false;
  {
    std::unique_lock lock(impl_->mu);
    auto [it, inserted] = impl_->brokers.try_emplace(r.broker_name);
    BrokerData& bd = it->second;
    if (inserted) {
      bd.cluster = r.cluster_name;
      bd.broker_name = r.broker_name;
    } else if (bd.cluster != r.cluster_name) {  // the broker group moved to another cluster
      auto old = impl_->clusters.find(bd.cluster);
      if (old != impl_->clusters.end()) {
        old->second.erase(r.broker_name);
        if (old->second.empty()) impl_->clusters.erase(old);
      }
      bd.cluster = r.cluster_name;
    }
    impl_->clusters[r.cluster_name].insert(r.broker_name);

    // One address per id, one id per address (a slave switching role re-registers).
    auto& addrs = bd.broker_addrs;
    for (auto a = addrs.begin(); a != addrs.end();) {
      a = (a->second == r.broker_addr && a->first != r.broker_id) ? addrs.erase(a) : std::next(a);
    }
    auto old_addr = addrs.find(r.broker_id);
    if (old_addr != addrs.end() && old_addr->second != r.broker_addr) impl_->live.erase(old_addr->second);
    is_new = old_addr == addrs.end() || old_addr->second != r.broker_addr;
    addrs[r.broker_id] = r.broker_addr;

    // The master's topic set is authoritative. While the group has no master (it expired or
    // was never seen since this name server started), the lowest-id slave's set keeps the
    // group's topics routed, so consumers can read them from the slave.
    if (addrs.begin()->first == r.broker_id) {
      std::set<std::string> listed;
      for (const auto& t : r.topics) listed.insert(t.topic_name);
      for (auto t = impl_->topics.begin(); t != impl_->topics.end();) {
        if (!listed.count(t->first)) t->second.erase(r.broker_name);
        t = t->second.empty() ? impl_->topics.erase(t) : std::next(t);
      }
      for (const auto& t : r.topics) {
        impl_->topics[t.topic_name][r.broker_name] =
            QueueData{r.broker_name, t.read_queue_nums, t.write_queue_nums, t.perm};
      }
    }
    int64_t timeout = r.heartbeat_timeout_ms > 0 ? r.heartbeat_timeout_ms : impl_->settings.broker_channel_expired_ms;
    std::string role = !r.role.empty() ? r.role : r.broker_id == 0 ? "ASYNC_MASTER" : "SLAVE";
    impl_->live[r.broker_addr] = Impl::Live{r.cluster_name, r.broker_name, r.broker_id, now, timeout, std::move(role)};
  }
  if (is_new) {
    impl_->log->info("broker registered cluster={} name={} id={} addr={} topics={}", r.cluster_name, r.broker_name,
                     r.broker_id, r.broker_addr, r.topics.size());
  }
  return Status::ok();
}

Status NameServerCore::unregister_broker(const std::string& cluster_name, const std::string& broker_name,
                                         int64_t broker_id, const std::string& broker_addr) {
  {
    std::unique_lock lock(impl_->mu);
    auto b = impl_->brokers.find(broker_name);
    if (b != impl_->brokers.end()) {
      auto a = b->second.broker_addrs.find(broker_id);
      if (a != b->second.broker_addrs.end() && a->second == broker_addr) {
        b->second.broker_addrs.erase(a);
        if (b->second.broker_addrs.empty()) impl_->remove_broker_name(broker_name);
      }
    }
    impl_->live.erase(broker_addr);
  }
  impl_->log->info("broker unregistered cluster={} name={} id={} addr={}", cluster_name, broker_name, broker_id,
                   broker_addr);
  return Status::ok();
}

Result<TopicRoute> NameServerCore::route(const std::string& topic) {
  std::shared_lock lock(impl_->mu);
  auto t = impl_->topics.find(topic);
  if (t == impl_->topics.end()) {
    return Status(Code::kTopicNotExist, "no route info of topic '" + topic +
                                            "': no broker has registered it; create it with mqadmin updateTopic or "
                                            "enable autoCreateTopicEnable on a broker");
  }
  TopicRoute out;
  for (const auto& [name, queues] : t->second) {
    out.queues.push_back(queues);
    auto b = impl_->brokers.find(name);
    if (b != impl_->brokers.end()) out.brokers.push_back(b->second);
  }
  return out;
}

ClusterInfo NameServerCore::cluster_info() {
  std::shared_lock lock(impl_->mu);
  ClusterInfo out;
  out.brokers = impl_->brokers;
  for (auto& [name, data] : out.brokers)
    for (const auto& [id, addr] : data.broker_addrs)
      if (auto l = impl_->live.find(addr); l != impl_->live.end()) data.broker_roles[id] = l->second.role;
  for (const auto& [cluster, names] : impl_->clusters) {
    out.clusters[cluster] = std::vector<std::string>(names.begin(), names.end());
  }
  return out;
}

std::vector<std::string> NameServerCore::topics() {
  std::shared_lock lock(impl_->mu);
  std::vector<std::string> out;
  out.reserve(impl_->topics.size());
  for (const auto& [topic, unused] : impl_->topics) out.push_back(topic);
  return out;
}

int NameServerCore::expire_inactive(int64_t now_ms) { return impl_->expire(now_ms); }

}  // namespace mq::kernel
