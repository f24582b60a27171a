// Message preparation, request building and a single send shared by the producers.
#include "send_request.h"

#include <chrono>

#include "message_id.h"
#include "message_validator.h"
#include "mq_constants.h"
#include "wire_convert.h"

namespace mq::client {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status prepare_wire_message(const Message& message, int64_t max_message_size, wire::Message* out, std::string* msg_id) {
  if (Status s = validate_message(message, max_message_size); !s) return s;
  *out = to_wire(message);
  auto it = out->properties.find(property::kUniqKey);
  if (it == out->properties.end() || it->second.empty()) {
    *msg_id = MessageIdGenerator::instance().next();
    out->properties[property::kUniqKey] = *msg_id;
  } else {
    *msg_id = it->second;
  }
  return Status::ok();
}

wire::SendRequest make_send_request(const std::string& group, const wire::Message& message, int32_t queue_id,
                                    const std::string& born_host, int32_t sys_flag) {
  wire::SendRequest request;
  request.producerGroup = group;
  request.topic = message.topic;
  request.queueId = queue_id;
  request.messages.push_back(message);
  request.bornTimestamp = wall_clock_ms();
  request.bornHost = born_host;
  request.sysFlag = sys_flag;
  request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
  return request;
}

SendResult send_to_queue(ClientInstance& client, const std::string& addr, wire::SendRequest& request,
                         const std::string& msg_id, const MessageQueue& queue) {
  SendResult r;
  r.msg_id = msg_id;
  r.message_queue = queue;
  if (addr.empty()) {
    r.code = code::kNoRoute;
    r.remark = "broker " + queue.broker_name + " has no master address";
    return r;
  }
  request.queueId = queue.queue_id;
  wire::SendResponse response;
  Status s = client.call_broker(
      addr, [&](wire::BrokerServiceClient& broker) { broker.send(response, request); }, CallRetry::kNever);
  if (!s) {
    r.code = s.code();
    r.remark = s.remark();
    return r;
  }
  return send_result_from_wire(response, queue, msg_id);
}

}  // namespace mq::client
