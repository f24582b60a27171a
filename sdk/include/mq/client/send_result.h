// SendResult: the outcome of one send. ok() means the broker stored the message; the status
// then says whether flushing or replication finished in time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mq/client/error_code.h"
#include "mq/client/message.h"

namespace mq::client {

enum class SendStatus : int32_t {
  kSendOk = 0,
  kFlushDiskTimeout = 1,   // stored, but not flushed within the broker's timeout
  kFlushSlaveTimeout = 2,  // stored, but the slave did not confirm in time
  kSlaveNotAvailable = 3,  // stored, but no slave is available
  kSendFailed = 4,         // not stored (or unknown): see code and remark
};

MQ_CLIENT_API const char* send_status_name(SendStatus status) noexcept;

struct SendResult {
  SendStatus status = SendStatus::kSendFailed;
  int code = code::kClientError;  // response code, or a client-side code (< 0)
  std::string remark;
  std::string msg_id;         // client id (UNIQ_KEY)
  std::string offset_msg_id;  // broker id (store host + commit-log offset)
  MessageQueue message_queue;
  int64_t queue_offset = -1;
  // send_batch only: one result per message, in the order given (empty for single sends).
  std::vector<SendResult> batch;

  bool ok() const noexcept { return status != SendStatus::kSendFailed; }
};

}  // namespace mq::client
