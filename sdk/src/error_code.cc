// Names of the result codes, for logs and tool output.
#include "mq/client/error_code.h"

#include "mq/client/send_result.h"
#include "mq/client/status.h"

namespace mq::client {

std::string_view code_name(int c) noexcept {
  switch (c) {
    case code::kSuccess: return "SUCCESS";
    case code::kSystemError: return "SYSTEM_ERROR";
    case code::kSystemBusy: return "SYSTEM_BUSY";
    case code::kRequestCodeNotSupported: return "REQUEST_CODE_NOT_SUPPORTED";
    case 4: return "TRANSACTION_FAILED";
    case code::kFlushDiskTimeout: return "FLUSH_DISK_TIMEOUT";
    case code::kSlaveNotAvailable: return "SLAVE_NOT_AVAILABLE";
    case code::kFlushSlaveTimeout: return "FLUSH_SLAVE_TIMEOUT";
    case code::kMessageIllegal: return "MESSAGE_ILLEGAL";
    case code::kServiceNotAvailable: return "SERVICE_NOT_AVAILABLE";
    case code::kVersionNotSupported: return "VERSION_NOT_SUPPORTED";
    case code::kNoPermission: return "NO_PERMISSION";
    case code::kTopicNotExist: return "TOPIC_NOT_EXIST";
    case code::kTopicExistAlready: return "TOPIC_EXIST_ALREADY";
    case code::kPullNotFound: return "PULL_NOT_FOUND";
    case code::kPullRetryImmediately: return "PULL_RETRY_IMMEDIATELY";
    case code::kPullOffsetMoved: return "PULL_OFFSET_MOVED";
    case code::kQueryNotFound: return "QUERY_NOT_FOUND";
    case code::kSubscriptionParseFailed: return "SUBSCRIPTION_PARSE_FAILED";
    case code::kSubscriptionNotExist: return "SUBSCRIPTION_NOT_EXIST";
    case 25: return "SUBSCRIPTION_NOT_LATEST";
    case code::kSubscriptionGroupNotExist: return "SUBSCRIPTION_GROUP_NOT_EXIST";
    case code::kInvalidParameter: return "INVALID_PARAMETER";
    case code::kConsumerNotOnline: return "CONSUMER_NOT_ONLINE";
    case code::kBrokerNotExist: return "BROKER_NOT_EXIST";
    case code::kClientError: return "CLIENT_ERROR";
    case code::kRpcFailed: return "RPC_FAILED";
    case code::kRpcTimeout: return "RPC_TIMEOUT";
    case code::kNoNameServer: return "NO_NAME_SERVER";
    case code::kNoRoute: return "NO_ROUTE";
    case code::kIllegalArgument: return "ILLEGAL_ARGUMENT";
    case code::kIllegalState: return "ILLEGAL_STATE";
    case code::kClientBusy: return "CLIENT_BUSY";
    default: return "UNKNOWN";
  }
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(code_name(code_));
  out += '(';
  out += std::to_string(code_);
  out += "): ";
  out += remark_;
  return out;
}

const char* send_status_name(SendStatus status) noexcept {
  switch (status) {
    case SendStatus::kSendOk: return "SEND_OK";
    case SendStatus::kFlushDiskTimeout: return "FLUSH_DISK_TIMEOUT";
    case SendStatus::kFlushSlaveTimeout: return "FLUSH_SLAVE_TIMEOUT";
    case SendStatus::kSlaveNotAvailable: return "SLAVE_NOT_AVAILABLE";
    case SendStatus::kSendFailed: return "SEND_FAILED";
  }
  return "UNKNOWN";
}

}  // namespace mq::client
