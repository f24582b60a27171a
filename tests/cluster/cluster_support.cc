// Cluster of real mqnamesrv/mqbroker processes and the delivery log used by the cluster tests.
#include "cluster_support.h"

#include <exception>
#include <utility>

#include "mq/wire/client_channel.h"

namespace mq::testing {

Cluster::Cluster(int brokers, int name_servers, std::map<std::string, std::string> broker_global)
    : dir_("mqcluster"), broker_count_(brokers), broker_global_(std::move(broker_global)) {
  for (int i = 0; i < name_servers; ++i)
    name_servers_.push_back(std::make_unique<NamesrvProcess>(dir_.path() + "/ns" + std::to_string(i)));
}

Cluster::~Cluster() {
  // Brokers first so they do not log name-server errors while going down.
  brokers_.clear();
  name_servers_.clear();
}

std::string Cluster::broker_name(int i) const { return std::string("broker-") + static_cast<char>('a' + i); }

void Cluster::start() {
  for (auto& ns : name_servers_) ns->start();
  // The broker's namesrvAddr is known only once the name servers have their ports.
  std::string list = namesrv_list();
  for (int i = 0; i < broker_count_; ++i) {
    BrokerOptions options;
    options.broker_name = broker_name(i);
    options.embedded_namesrv = false;
    options.namesrv_addr = list;  // registers with every name server
    options.global["registerNameServerPeriod"] = "2000";
    for (const auto& [key, value] : broker_global_) options.global[key] = value;
    options.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(8 << 20);
    options.sections["storage-mmap"]["mapedFileSizeConsumeQueue"] = std::to_string(20 * 20000);
    brokers_.push_back(std::make_unique<BrokerProcess>(dir_.path(), std::move(options)));
  }
  for (auto& b : brokers_) b->start();
}

std::string Cluster::namesrv_list() const {
  std::string list;
  for (const auto& ns : name_servers_) {
    if (!list.empty()) list += ';';
    list += ns->addr();
  }
  return list;
}

std::set<std::string> route_brokers(const std::string& namesrv_addr, const std::string& topic) {
  std::set<std::string> names;
  try {
    auto channel = wire::ClientChannel::connect(namesrv_addr);
    wire::TopicRouteResponse route;
    channel->name_server().getRouteInfoByTopic(route, topic);
    if (route.code != 0) return {};
    for (const auto& q : route.queues)
      if (q.writeQueueNums > 0) names.insert(q.brokerName);
  } catch (const std::exception&) {
    return {};
  }
  return names;
}

bool wait_for_route(const std::string& namesrv_addr, const std::string& topic, const std::set<std::string>& brokers,
                    std::chrono::milliseconds timeout) {
  return eventually([&] { return route_brokers(namesrv_addr, topic) == brokers; }, timeout);
}

std::vector<wire::QueueConsumeStat> consume_stats(const std::string& broker_addr, const std::string& group,
                                                  const std::string& topic) {
  try {
    auto channel = wire::ClientChannel::connect(broker_addr);
    wire::ConsumeStatsResponse response;
    channel->broker().getConsumeStats(response, group, topic);
    return response.code == 0 ? response.queues : std::vector<wire::QueueConsumeStat>{};
  } catch (const std::exception&) {
    return {};
  }
}

std::string queue_key(const client::MessageExt& message) {
  return message.store_host() + "#" + std::to_string(message.queue_id());
}

void DeliveryLog::record(const std::string& member, const client::MessageExt& message) {
  Entry entry{member, message.body(), queue_key(message), phase_.load()};
  std::lock_guard lock(mu_);
  ++count_by_body_[entry.body];
  entries_.push_back(std::move(entry));
}

std::vector<DeliveryLog::Entry> DeliveryLog::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

size_t DeliveryLog::total() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::set<std::string> DeliveryLog::distinct_bodies() const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [body, n] : count_by_body_) out.insert(body);
  return out;
}

size_t DeliveryLog::distinct_count() const {
  std::lock_guard lock(mu_);
  return count_by_body_.size();
}

std::set<std::string> DeliveryLog::bodies_of(const std::string& member) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& e : entries_)
    if (e.member == member) out.insert(e.body);
  return out;
}

std::map<std::string, int> DeliveryLog::duplicates() const {
  std::lock_guard lock(mu_);
  std::map<std::string, int> out;
  for (const auto& [body, n] : count_by_body_)
    if (n > 1) out[body] = n;
  return out;
}

std::set<std::string> DeliveryLog::queues_of(const std::string& member, int phase) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& e : entries_)
    if (e.member == member && e.phase == phase) out.insert(e.queue);
  return out;
}

}  // namespace mq::testing
