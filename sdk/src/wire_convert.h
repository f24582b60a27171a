// Conversions between the public client types and the generated Thrift types (mq::wire).
#pragma once

#include "mq/client/message.h"
#include "mq/client/send_result.h"
#include "mq_types.h"

namespace mq::client {

wire::Message to_wire(const Message& message);
MessageExt from_wire(const wire::MessageExt& message);
// The result of a SendResponse for a single message.
SendResult send_result_from_wire(const wire::SendResponse& response, const MessageQueue& queue,
                                 const std::string& msg_id);

}  // namespace mq::client
