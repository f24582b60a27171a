// Route views: publish info and readable queues.
#include "topic_route.h"

#include <algorithm>
#include <random>
#include <set>

namespace mq::client {

std::map<std::string, std::string> master_addresses(const wire::TopicRouteResponse& route) {
  std::map<std::string, std::string> out;
  for (const auto& broker : route.brokers) {
    auto it = broker.brokerAddrs.find(0);
    if (it != broker.brokerAddrs.end() && !it->second.empty()) out[broker.brokerName] = it->second;
  }
  return out;
}

std::vector<MessageQueue> readable_queues(const std::string& topic, const wire::TopicRouteResponse& route) {
  // A group whose master is gone keeps its queues while a slave serves them (reads fail over).
  std::set<std::string> served;
  for (const auto& broker : route.brokers) {
    for (const auto& [id, addr] : broker.brokerAddrs) {
      if (!addr.empty()) served.insert(broker.brokerName);
    }
  }
  std::vector<MessageQueue> out;
  for (const auto& q : route.queues) {
    if ((q.perm & kPermRead) == 0 || served.count(q.brokerName) == 0) continue;
    for (int32_t i = 0; i < q.readQueueNums; ++i) out.push_back(MessageQueue{topic, q.brokerName, i});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TopicPublishInfo::TopicPublishInfo(std::vector<MessageQueue> queues, std::map<std::string, std::string> broker_addrs)
    : queues_(std::move(queues)), broker_addrs_(std::move(broker_addrs)) {
  // Start at a random queue so many producers do not all hit queue 0 first.
  if (!queues_.empty()) next_.store(std::random_device()() % queues_.size());
}

TopicPublishInfo TopicPublishInfo::from_route(const std::string& topic, const wire::TopicRouteResponse& route) {
  auto masters = master_addresses(route);
  std::vector<MessageQueue> queues;
  for (const auto& q : route.queues) {
    if ((q.perm & kPermWrite) == 0 || masters.count(q.brokerName) == 0) continue;
    for (int32_t i = 0; i < q.writeQueueNums; ++i) queues.push_back(MessageQueue{topic, q.brokerName, i});
  }
  std::sort(queues.begin(), queues.end());
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  return TopicPublishInfo(std::move(queues), std::move(masters));
}

std::string TopicPublishInfo::broker_address(const std::string& broker_name) const {
  auto it = broker_addrs_.find(broker_name);
  return it == broker_addrs_.end() ? std::string() : it->second;
}

MessageQueue TopicPublishInfo::select_queue(const std::string& avoid_broker) const {
  const size_t n = queues_.size();
  if (!avoid_broker.empty()) {
    for (size_t i = 0; i < n; ++i) {
      const MessageQueue& q = queues_[next_.fetch_add(1) % n];
      if (q.broker_name != avoid_broker) return q;
    }
  }
  return queues_[next_.fetch_add(1) % n];
}

MessageQueue TopicPublishInfo::select_queue(const std::string& avoid_broker,
                                            const std::function<bool(const std::string&)>& available) const {
  const size_t n = queues_.size();
  if (available) {
    for (size_t i = 0; i < n; ++i) {
      const MessageQueue& q = queues_[next_.fetch_add(1) % n];
      if (q.broker_name != avoid_broker && available(q.broker_name)) return q;
    }
  }
  return select_queue(avoid_broker);
}

}  // namespace mq::client
