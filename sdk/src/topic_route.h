// Views of a topic route (the name server's TopicRouteResponse): the writable queues a
// producer may send to (TopicPublishInfo, with round-robin selection that avoids a broker
// that just failed) and the readable queues a consumer shares with its group.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mq_types.h"
#include "mq/client/message.h"

namespace mq::client {

inline constexpr int32_t kPermRead = 4;
inline constexpr int32_t kPermWrite = 2;

// broker name -> master address ("" entries are skipped).
std::map<std::string, std::string> master_addresses(const wire::TopicRouteResponse& route);
// Readable queues of brokers that have any address (a master, or only slaves), sorted.
std::vector<MessageQueue> readable_queues(const std::string& topic, const wire::TopicRouteResponse& route);

// Immutable after construction except for the round-robin counter; safe to share.
class TopicPublishInfo {
 public:
  TopicPublishInfo() = default;
  TopicPublishInfo(std::vector<MessageQueue> queues, std::map<std::string, std::string> broker_addrs);
  TopicPublishInfo(TopicPublishInfo&& other) noexcept
      : queues_(std::move(other.queues_)), broker_addrs_(std::move(other.broker_addrs_)), next_(other.next_.load()) {}
  // Writable queues of brokers with a master, in (broker name, queue id) order.
  static TopicPublishInfo from_route(const std::string& topic, const wire::TopicRouteResponse& route);

  bool empty() const { return queues_.empty(); }
  const std::vector<MessageQueue>& queues() const { return queues_; }
  // Master address of a broker, "" if unknown.
  std::string broker_address(const std::string& broker_name) const;
  // The next queue round-robin; when avoid_broker is set, the next queue on another broker if
  // there is one (else the plain next queue). Requires !empty().
  MessageQueue select_queue(const std::string& avoid_broker = {}) const;
  // Like select_queue, but first looks for a queue whose broker passes `available` (and is not
  // avoid_broker); falls back to select_queue(avoid_broker) when no broker qualifies.
  MessageQueue select_queue(const std::string& avoid_broker,
                            const std::function<bool(const std::string& broker)>& available) const;

 private:
  std::vector<MessageQueue> queues_;
  std::map<std::string, std::string> broker_addrs_;
  mutable std::atomic<uint64_t> next_{0};
};

}  // namespace mq::client
