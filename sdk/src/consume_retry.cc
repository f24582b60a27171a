// Consumer retry support implementation.
#include "consume_retry.h"

#include <algorithm>
#include <limits>

namespace mq::client {

bool is_retry_topic(const std::string& topic) {
  return topic.rfind(kRetryGroupTopicPrefix, 0) == 0;
}

void restore_retry_topic(MessageExt& message, const std::string& retry_topic) {
  if (message.topic() != retry_topic) return;
  std::string original = message.property(property::kRetryTopic);
  if (!original.empty()) message.set_topic(std::move(original));
}

std::vector<size_t> failed_indices(ConsumeStatus status, int32_t ack_index, size_t size) {
  int64_t acked = status == ConsumeStatus::kConsumeSuccess ? ack_index : -1;
  acked = std::clamp<int64_t>(acked, -1, static_cast<int64_t>(size) - 1);
  std::vector<size_t> out;
  for (size_t i = static_cast<size_t>(acked + 1); i < size; ++i) out.push_back(i);
  return out;
}

int32_t effective_max_reconsume_times(int32_t configured, bool orderly) {
  if (configured >= 0) return configured;
  return orderly ? std::numeric_limits<int32_t>::max() : kDefaultMaxReconsumeTimes;
}

wire::ConsumerSendBackRequest make_send_back_request(const MessageExt& message, const std::string& group,
                                                     int32_t delay_level, int32_t max_reconsume_times) {
  wire::ConsumerSendBackRequest request;
  request.consumerGroup = group;
  request.commitLogOffset = message.commit_log_offset();
  request.originMsgId = message.msg_id();
  request.originTopic = message.topic();
  request.delayLevel = delay_level;
  request.maxReconsumeTimes = max_reconsume_times;
  return request;
}

void InFlightTable::begin(const Batch& batch, int64_t now_ms) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < batch->size(); ++i) entries_[(*batch)[i].queue_offset()] = Entry{batch, i, now_ms};
}

bool InFlightTable::claim(int64_t queue_offset) {
  std::lock_guard lock(mu_);
  return entries_.erase(queue_offset) != 0;
}

std::vector<InFlightTable::Entry> InFlightTable::take_expired(int64_t now_ms, int64_t timeout_ms) {
  std::lock_guard lock(mu_);
  std::vector<Entry> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now_ms - it->second.start_ms >= timeout_ms) {
      out.push_back(std::move(it->second));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

size_t InFlightTable::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mq::client
