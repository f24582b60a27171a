// Wire-level admin helpers for end-to-end tests (see broker_admin.h).
#include "support/broker_admin.h"

#include <exception>

#include "mq/wire/client_channel.h"

namespace mq::testing {

std::string create_topic(const std::string& broker_addr, const std::string& topic, int queues) {
  try {
    auto channel = wire::ClientChannel::connect(broker_addr);
    wire::TopicConfig config;
    config.topicName = topic;
    config.readQueueNums = queues;
    config.writeQueueNums = queues;
    wire::BaseResponse response;
    channel->broker().createTopic(response, config);
    if (response.code != 0) return "createTopic " + topic + " on " + broker_addr + ": " + response.remark;
    return {};
  } catch (const std::exception& e) {
    return "createTopic " + topic + " on " + broker_addr + ": " + e.what();
  }
}

bool has_route(const std::string& namesrv, const std::string& topic) {
  try {
    auto channel = wire::ClientChannel::connect(namesrv);
    wire::TopicRouteResponse route;
    channel->name_server().getRouteInfoByTopic(route, topic);
    return route.code == 0 && !route.queues.empty();
  } catch (const std::exception&) {
    return false;
  }
}

bool wait_for_route(const std::string& namesrv, const std::string& topic, std::chrono::milliseconds timeout) {
  return eventually([&] { return has_route(namesrv, topic); }, timeout);
}

int64_t committed_offset(const std::string& broker_addr, const std::string& group, const std::string& topic,
                         int queue_id) {
  auto channel = wire::ClientChannel::connect(broker_addr);
  wire::ConsumerOffsetRequest request;
  request.consumerGroup = group;
  request.topic = topic;
  request.queueId = queue_id;
  wire::OffsetResponse response;
  channel->broker().queryConsumerOffset(response, request);
  return response.code == 0 ? response.offset : -1;
}

CommandResult run_mqadmin(const std::string& namesrv, const std::vector<std::string>& args) {
  std::vector<std::string> argv{bin_path("mqadmin")};
  argv.push_back(args.front());
  argv.push_back("-n");
  argv.push_back(namesrv);
  argv.insert(argv.end(), args.begin() + 1, args.end());
  return run_command(argv, std::chrono::seconds(60));
}

}  // namespace mq::testing
