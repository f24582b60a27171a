// Consumer retry support (RocketMQ ConsumeMessageConcurrentlyService / Orderly send-back
// rules), kept free of threads and I/O so it is unit-tested:
//  - which messages of a batch failed (status + ack index);
//  - the CONSUMER_SEND_MSG_BACK request for a failed message;
//  - restoring the original topic of a message pulled from %RETRY%<group>;
//  - the effective max reconsume times (concurrent: 16 by default; orderly: unlimited);
//  - InFlightTable: which messages of a queue are with the listener and since when, so a
//    consume timeout can send a stuck message back while its listener still runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mq/client/message.h"
#include "mq/client/push_consumer.h"
#include "mq_types.h"

namespace mq::client {

inline constexpr int32_t kDefaultMaxReconsumeTimes = 16;   // RocketMQ client default (-1 -> 16)
inline constexpr int32_t kDelayLevelDlq = -1;              // send-back straight to %DLQ%<group>
inline constexpr int32_t kDelayLevelOnConsumeTimeout = 3;  // RocketMQ cleanExpireMsg

// True for "%RETRY%..." topics.
bool is_retry_topic(const std::string& topic);

// A message pulled from `retry_topic` (the group's %RETRY% topic) carries its original topic
// in RETRY_TOPIC: the listener sees that topic. Other messages are left as they are.
void restore_retry_topic(MessageExt& message, const std::string& retry_topic);

// Indices of the messages of a batch of `size` that failed: all for kReconsumeLater, those
// after ack_index for kConsumeSuccess (ack_index is clamped to [-1, size-1]).
std::vector<size_t> failed_indices(ConsumeStatus status, int32_t ack_index, size_t size);

// configured < 0: 16 for concurrent listeners, unlimited (INT32_MAX) for orderly ones.
int32_t effective_max_reconsume_times(int32_t configured, bool orderly);

// The send-back request for `message` as the listener saw it (original topic, client id).
wire::ConsumerSendBackRequest make_send_back_request(const MessageExt& message, const std::string& group,
                                                     int32_t delay_level, int32_t max_reconsume_times);

// Messages of one queue currently handed to the listener, by queue offset. Whoever removes
// an entry (the consume thread when the listener returns, or the timeout sweep) owns the
// outcome of that message; the other side then leaves it alone. Thread-safe.
class InFlightTable {
 public:
  using Batch = std::shared_ptr<std::vector<MessageExt>>;
  struct Entry {
    Batch batch;  // keeps the message alive; read-only while the listener may still run
    size_t index = 0;
    int64_t start_ms = 0;
    const MessageExt& message() const { return (*batch)[index]; }
  };

  void begin(const Batch& batch, int64_t now_ms);
  // True (and forgets it) if the message at queue_offset was still in flight.
  bool claim(int64_t queue_offset);
  // Removes and returns the entries older than timeout_ms.
  std::vector<Entry> take_expired(int64_t now_ms, int64_t timeout_ms);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<int64_t, Entry> entries_;
};

}  // namespace mq::client
