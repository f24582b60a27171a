// send_with_retry implementation.
#include "send_retry.h"

#include "logging.h"

namespace mq::client {

bool is_retriable_send_code(int c) noexcept {
  switch (c) {
    case code::kTopicNotExist:
    case code::kServiceNotAvailable:
    case code::kSystemError:
    case code::kSystemBusy:
    case code::kNoPermission:
    case code::kRpcFailed:
    case code::kRpcTimeout:
    case code::kNoRoute:
      return true;
    default:
      return false;
  }
}

SendResult send_with_retry(const TopicPublishInfo& info, int retry_times, std::chrono::milliseconds timeout,
                           const SendAttemptFn& attempt, const BrokerAvailableFn& available) {
  SendResult result;
  if (info.empty()) {
    result.code = code::kNoRoute;
    result.remark = "the topic has no writable queue on any broker";
    return result;
  }
  const auto start = std::chrono::steady_clock::now();
  const int attempts = 1 + (retry_times < 0 ? 0 : retry_times);
  std::string failed_broker;
  for (int i = 0; i < attempts; ++i) {
    if (i > 0 && std::chrono::steady_clock::now() - start >= timeout) {
      result.remark += " (send timeout reached after " + std::to_string(i) + " attempts)";
      break;
    }
    MessageQueue queue = info.select_queue(failed_broker, available);
    std::string addr = info.broker_address(queue.broker_name);
    result = attempt(queue, addr);
    result.message_queue = queue;
    if (result.ok() || !is_retriable_send_code(result.code)) return result;
    client_log().warn("send to {} ({}) failed: {}({}): {}{}", queue.to_string(), addr, code_name(result.code),
                      result.code, result.remark, i + 1 < attempts ? "; retrying on another queue" : "");
    failed_broker = queue.broker_name;
  }
  return result;
}

}  // namespace mq::client
