// PullConsumer: the application chooses queues and offsets and pulls explicitly; the SDK only
// routes requests to the right broker. Offsets are stored on the broker only when the
// application calls update_consume_offset(). Thread-safe once started; no method throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mq/client/export.h"
#include "mq/client/message.h"
#include "mq/client/status.h"

namespace mq::client {

struct PullResult {
  enum class PullStatus : int32_t {
    kFound,          // messages holds at least one message
    kNoNewMsg,       // offset is at the queue's end
    kNoMatchedMsg,   // messages were skipped by the filter; continue at next_begin_offset
    kOffsetIllegal,  // offset outside [min_offset, max_offset]; continue at next_begin_offset
    kError,          // see code / remark
  };
  PullStatus status = PullStatus::kError;
  int code = code::kClientError;
  std::string remark;
  int64_t next_begin_offset = -1;
  int64_t min_offset = -1;
  int64_t max_offset = -1;
  std::vector<MessageExt> messages;
};

MQ_CLIENT_API const char* pull_status_name(PullResult::PullStatus status) noexcept;

class MQ_CLIENT_API PullConsumer {
 public:
  explicit PullConsumer(std::string group);
  ~PullConsumer();  // calls shutdown()
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // "host:port;host:port". When never set, start() reads the NAMESRV_ADDR environment variable.
  void set_namesrv_addr(std::string addresses);
  const std::string& group() const;
  Status start();
  Status shutdown();  // idempotent

  // The topic's readable queues (sorted); empty with *status set on failure.
  std::vector<MessageQueue> fetch_subscribe_message_queues(const std::string& topic, Status* status = nullptr);
  // expression: "*" or "TagA || TagB". Returns at once (no long polling).
  PullResult pull(const MessageQueue& mq, const std::string& expression, int64_t offset, int max_nums);
  // Held by the broker up to timeout_ms (at most 30000) while there is no new message.
  PullResult pull_block_if_not_found(const MessageQueue& mq, const std::string& expression, int64_t offset,
                                     int max_nums, int timeout_ms = 15000);
  // The group's committed offset on the broker.
  Status update_consume_offset(const MessageQueue& mq, int64_t offset);
  int64_t fetch_consume_offset(const MessageQueue& mq, Status* status = nullptr);  // -1 if none
  int64_t min_offset(const MessageQueue& mq, Status* status = nullptr);
  int64_t max_offset(const MessageQueue& mq, Status* status = nullptr);
  // The first offset whose message was stored at or after timestamp_ms.
  int64_t search_offset(const MessageQueue& mq, int64_t timestamp_ms, Status* status = nullptr);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::client
