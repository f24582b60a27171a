// Queue and topic reading for mqadmin: one pull loop for every command that reads messages.
#include "admin_topic_reader.h"

#include <algorithm>

#include "topic_route.h"

namespace mq::admin {

using client::Status;
namespace code = client::code;

Status pull_queue(client::ClientInstance& client, const std::string& addr, const std::string& group,
                  const client::MessageQueue& queue, int64_t limit, const TakeMessage& take, int64_t* offset) {
  int64_t counted = 0;
  for (int guard = 0; guard < 100000 && counted < limit; ++guard) {
    wire::PullRequest request;
    request.consumerGroup = group;
    request.topic = queue.topic;
    request.queueId = queue.queue_id;
    request.queueOffset = *offset;
    request.maxMsgs = static_cast<int32_t>(std::min<int64_t>(32, limit - counted));
    request.suspendTimeoutMs = 0;
    wire::PullResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.pull(response, request); });
    if (!s) return s;
    if (response.code == code::kSuccess) {
      for (auto& m : response.messages) {
        if (counted < limit && take(m)) ++counted;
      }
      const int64_t next = std::max(response.nextBeginOffset, *offset + static_cast<int64_t>(response.messages.size()));
      if (next == *offset) break;
      *offset = next;
    } else if (response.code == code::kPullRetryImmediately || response.code == code::kPullOffsetMoved) {
      if (response.nextBeginOffset == *offset) break;
      *offset = response.nextBeginOffset;
    } else if (response.code == code::kPullNotFound) {
      break;  // read to the end
    } else {
      return Status(response.code, "pull " + queue.to_string() + ": " + response.remark);
    }
  }
  return Status::ok();
}

Status read_topic(client::ClientInstance& client, const std::string& topic,
                  const std::function<bool(const wire::MessageExt&)>& keep, int64_t limit, FoundMessages* out) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(topic, &route); !s) {
    return s.code() == code::kTopicNotExist ? Status::ok() : s;
  }
  auto masters = client::master_addresses(route);
  int64_t found = 0;
  for (const auto& queue : client::readable_queues(topic, route)) {
    if (found >= limit) break;
    const std::string addr = masters[queue.broker_name];
    wire::QueueRef ref;
    ref.topic = topic;
    ref.queueId = queue.queue_id;
    wire::OffsetResponse min;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getMinOffset(min, ref); });
    if (s && min.code != code::kSuccess) s = Status(min.code, "getMinOffset " + queue.to_string() + ": " + min.remark);
    if (!s) return s;
    int64_t offset = min.offset;
    s = pull_queue(
        client, addr, "TOOLS_CONSUMER", queue, limit - found,
        [&](wire::MessageExt& m) {
          if (!keep(m)) return false;
          out->emplace_back(queue.broker_name, std::move(m));
          ++found;
          return true;
        },
        &offset);
    if (!s) return s;
  }
  return Status::ok();
}

}  // namespace mq::admin
