// The synchronous send retry policy, separate from the network so it can be tested with a
// fake sender: pick a queue round-robin, and after a transport error or a retriable response
// code pick the next queue on another broker, up to 1 + retry_times attempts within the timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "mq/client/send_result.h"
#include "topic_route.h"

namespace mq::client {

// Codes after which another queue is tried: TOPIC_NOT_EXIST, SERVICE_NOT_AVAILABLE,
// SYSTEM_ERROR, SYSTEM_BUSY, NO_PERMISSION and the client-side transport errors.
bool is_retriable_send_code(int code) noexcept;

// Sends once to a queue whose master is broker_addr.
using SendAttemptFn = std::function<SendResult(const MessageQueue& queue, const std::string& broker_addr)>;

// Whether a broker may be chosen now (latency fault avoidance); empty: every broker.
using BrokerAvailableFn = std::function<bool(const std::string& broker_name)>;

// Returns the first successful result, the first non-retriable failure, or the last failure.
// Stops retrying once timeout has elapsed since the call started.
SendResult send_with_retry(const TopicPublishInfo& info, int retry_times, std::chrono::milliseconds timeout,
                           const SendAttemptFn& attempt, const BrokerAvailableFn& available = {});

}  // namespace mq::client
