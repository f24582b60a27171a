// AllocateMessageQueueAveragely and ...ByCircle (RocketMQ): every consumer of a group computes the same
// assignment independently from the same inputs. Queues and consumer ids are sorted; with
// n queues and c consumers each gets n/c consecutive queues, the first n%c one more.
#pragma once

#include <string>
#include <vector>

#include "mq/client/message.h"

namespace mq::client {

// The queues assigned to current_id. Empty when current_id is not among consumer_ids or
// there are no queues. Inputs need not be sorted or unique.
std::vector<MessageQueue> allocate_averagely(const std::string& current_id, std::vector<MessageQueue> queues,
                                             std::vector<std::string> consumer_ids);

// AllocateMessageQueueAveragelyByCircle: consumer k (in sorted id order) gets queues k, k+c, k+2c...
// Same contract as allocate_averagely.
std::vector<MessageQueue> allocate_averagely_by_circle(const std::string& current_id, std::vector<MessageQueue> queues,
                                                       std::vector<std::string> consumer_ids);

}  // namespace mq::client
