// Conversions between the public client types and the generated Thrift types (mq::wire).
#pragma once

#include "mq/client/message.h"
#include "mq/client/send_result.h"
#include "mq_types.h"

namespace mq::client {

wire::Message to_wire(const Message& message);
MessageExt from_wire(const wire::MessageExt& message);
// The messages of a pull response in queue order: decoded from its message records when the
// broker sent them (PullRequest.wantRecords), else converted from `messages`. Returns an
// empty string, or what is malformed in the records (`out` then holds the messages before
// the bad record).
std::string messages_from_pull(const wire::PullResponse& response, std::vector<MessageExt>* out);
// The result of a SendResponse for a single message.
SendResult send_result_from_wire(const wire::SendResponse& response, const MessageQueue& queue,
                                 const std::string& msg_id);

}  // namespace mq::client
