// ScheduleService: what the schedule plugin serves to the kernel's request dispatch
// (consumer send-back into %RETRY% / %DLQ%, cancelling a scheduled message). Without the
// plugin the kernel answers REQUEST_CODE_NOT_SUPPORTED "schedule plugin not loaded".
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <string>
#include <string_view>

#include "mq/broker_api.h"

namespace mq {

// Property names of delayed and timed messages (RocketMQ 4.x DELAY; 5.x TIMER_*).
namespace prop {
inline constexpr std::string_view kTimerDeliverMs = "TIMER_DELIVER_MS";  // absolute, ms since epoch
inline constexpr std::string_view kTimerDelayMs = "TIMER_DELAY_MS";      // relative to the send
inline constexpr std::string_view kTimerDelaySec = "TIMER_DELAY_SEC";    // relative to the send
inline constexpr std::string_view kReconsumeTime = "RECONSUME_TIME";
inline constexpr std::string_view kMaxReconsumeTimes = "MAX_RECONSUME_TIMES";
}  // namespace prop

inline constexpr std::string_view kScheduleTopic = "SCHEDULE_TOPIC_XXXX";
inline constexpr std::string_view kRetryGroupTopicPrefix = "%RETRY%";
inline constexpr std::string_view kDlqGroupTopicPrefix = "%DLQ%";

// True when a message asks for delayed delivery (DELAY > 0 or a TIMER_* property);
// `property(name)` returns the message's property `name` ("" when absent).
template <class PropertyOf>
bool wants_scheduled_delivery_by(PropertyOf&& property) {
  std::string_view level = property(prop::kDelayLevel);
  if (!level.empty() && level != "0") return true;
  return !property(prop::kTimerDeliverMs).empty() || !property(prop::kTimerDelayMs).empty() ||
         !property(prop::kTimerDelaySec).empty();
}
inline bool wants_scheduled_delivery(const Message& msg) {
  return wants_scheduled_delivery_by([&msg](std::string_view name) { return msg.property(name); });
}

// Threading: safe from any transport thread; replies may run on any thread; never blocks.
class BOOST_SYMBOL_VISIBLE ScheduleService {
 public:
  static constexpr std::string_view kServiceName = "ScheduleService";
  virtual ~ScheduleService() = default;
  virtual void send_back(ConsumerSendBack request, Reply<Status> reply) = 0;
  // Cancels a message scheduled for `topic` whose client id (UNIQ_KEY) is `msg_id`.
  virtual void cancel(std::string topic, std::string msg_id, Reply<Status> reply) = 0;
};

}  // namespace mq
