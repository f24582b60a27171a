// Wire conversions.
#include "wire_convert.h"

namespace mq::client {

wire::Message to_wire(const Message& message) {
  wire::Message out;
  out.topic = message.topic();
  out.flag = message.flag();
  out.properties = message.properties();
  out.body = message.body();
  return out;
}

MessageExt from_wire(const wire::MessageExt& m) {
  MessageExt out;
  out.set_topic(m.topic);
  out.set_flag(m.flag);
  out.set_properties(m.properties);
  out.set_body(m.body);
  out.set_queue_id(m.queueId);
  out.set_queue_offset(m.queueOffset);
  out.set_commit_log_offset(m.commitLogOffset);
  out.set_born_timestamp(m.bornTimestamp);
  out.set_born_host(m.bornHost);
  out.set_store_timestamp(m.storeTimestamp);
  out.set_store_host(m.storeHost);
  out.set_reconsume_times(m.reconsumeTimes);
  out.set_offset_msg_id(m.offsetMsgId);
  out.set_store_size(m.storeSize);
  return out;
}

SendResult send_result_from_wire(const wire::SendResponse& response, const MessageQueue& queue,
                                 const std::string& msg_id) {
  SendResult result;
  result.code = response.code;
  result.remark = response.remark;
  result.msg_id = msg_id;
  result.message_queue = queue;
  if (response.queueId >= 0) result.message_queue.queue_id = response.queueId;
  switch (response.code) {
    case code::kSuccess: result.status = SendStatus::kSendOk; break;
    case code::kFlushDiskTimeout: result.status = SendStatus::kFlushDiskTimeout; break;
    case code::kFlushSlaveTimeout: result.status = SendStatus::kFlushSlaveTimeout; break;
    case code::kSlaveNotAvailable: result.status = SendStatus::kSlaveNotAvailable; break;
    default: result.status = SendStatus::kSendFailed; return result;
  }
  if (!response.results.empty()) {
    const auto& item = response.results.front();
    if (!item.msgId.empty()) result.msg_id = item.msgId;
    result.offset_msg_id = item.offsetMsgId;
    result.queue_offset = item.queueOffset;
  }
  return result;
}

}  // namespace mq::client
