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
// The result of a SendResponse for a single message (for a batch: its first message).
SendResult send_result_from_wire(const wire::SendResponse& response, const MessageQueue& queue,
                                 const std::string& msg_id);
// True when a broker answered an encoded batch as a send without messages: it predates
// encodedMessages (skipped the field) and takes the batch as `messages`.
bool predates_encoded_batches(const wire::SendResponse& response);
// A batch send's request with `messages` encoded into `encodedMessages` (SendRequest field
// 10) instead; every other field copied.
wire::SendRequest encoded_batch_request(const wire::SendRequest& request);
// One result per message of a successful batch send, each starting as a copy of `head`: from
// response.batch (an encoded send) or response.results. `sent` are the messages sent; their
// UNIQ_KEYs are the ids of those the broker did not assign one. A message the response says
// nothing about gets queue offset -1 and no offset message id.
std::vector<SendResult> batch_results_from_wire(const wire::SendResponse& response, const SendResult& head,
                                                const std::vector<wire::Message>& sent);

}  // namespace mq::client
