// The wire side of one send, shared by Producer and TransactionProducer: validate a message
// and give it its unique id, build the SendRequest, and send it once to a queue's broker.
// Stateless; the retry policy around these is send_retry.h.
#pragma once

#include <cstdint>
#include <string>

#include "client_instance.h"
#include "mq/client/message.h"
#include "mq/client/send_result.h"
#include "mq/client/status.h"

namespace mq::client {

// Wall-clock milliseconds since the epoch (born timestamps).
int64_t wall_clock_ms();

// Validates message against max_message_size, converts it to the wire and sets its
// UNIQ_KEY property (kept when the application set one); *msg_id is that key.
Status prepare_wire_message(const Message& message, int64_t max_message_size, wire::Message* out, std::string* msg_id);

// A request carrying `message` for queue_id (-1: set per attempt), born now at born_host.
wire::SendRequest make_send_request(const std::string& group, const wire::Message& message, int32_t queue_id,
                                    const std::string& born_host, int32_t sys_flag = 0);

// Sends request to queue on the broker at addr once (no channel-level retry: the caller's
// policy picks the next queue). A transport failure is a failed result naming msg_id and queue.
SendResult send_to_queue(ClientInstance& client, const std::string& addr, wire::SendRequest& request,
                         const std::string& msg_id, const MessageQueue& queue);

}  // namespace mq::client
