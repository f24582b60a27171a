// Client message types: Message (what a producer sends), MessageExt (what a consumer
// receives: the message plus broker-assigned fields) and MessageQueue (topic, broker, queue).
// Message and MessageExt are value types behind a pimpl so their layout can grow.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "mq/client/export.h"

namespace mq::client {

// Property names as RocketMQ spells them (MessageConst).
namespace property {
inline constexpr const char* kTags = "TAGS";
inline constexpr const char* kKeys = "KEYS";  // space-separated
inline constexpr const char* kUniqKey = "UNIQ_KEY";
// Scheduled delivery (served by the broker's schedule plugin; see Message::set_delay_time_level).
inline constexpr const char* kDelayTimeLevel = "DELAY";
inline constexpr const char* kTimerDeliverMs = "TIMER_DELIVER_MS";  // absolute, ms since the epoch
inline constexpr const char* kTimerDelayMs = "TIMER_DELAY_MS";      // relative to the send
inline constexpr const char* kTimerDelaySec = "TIMER_DELAY_SEC";    // relative to the send
// Set by the broker on messages sent back by a consumer: the topic the message was first sent
// to (kept through %RETRY%<group> and %DLQ%<group>) and its first message id.
inline constexpr const char* kRetryTopic = "RETRY_TOPIC";
inline constexpr const char* kOriginMessageId = "ORIGIN_MESSAGE_ID";
}  // namespace property

// Per-group system topics (RocketMQ MixAll): a clustering consumer group's retry topic, which
// its members subscribe automatically, and its dead-letter queue.
inline constexpr const char* kRetryGroupTopicPrefix = "%RETRY%";
inline constexpr const char* kDlqGroupTopicPrefix = "%DLQ%";
inline std::string retry_topic_of(const std::string& group) { return kRetryGroupTopicPrefix + group; }
inline std::string dlq_topic_of(const std::string& group) { return kDlqGroupTopicPrefix + group; }

class MQ_CLIENT_API Message {
 public:
  Message();
  explicit Message(std::string topic, std::string body = {});
  Message(std::string topic, std::string tags, std::string keys, std::string body);
  Message(const Message& other);
  Message(Message&& other) noexcept;
  Message& operator=(const Message& other);
  Message& operator=(Message&& other) noexcept;
  virtual ~Message();

  const std::string& topic() const;
  void set_topic(std::string topic);
  // The TAGS property ("" when unset).
  std::string tags() const;
  void set_tags(std::string tags);
  // The KEYS property: space-separated keys ("" when unset).
  std::string keys() const;
  void set_keys(std::string keys);
  int32_t flag() const;
  void set_flag(int32_t flag);
  const std::string& body() const;
  void set_body(std::string body);

  // Scheduled delivery; needs the schedule plugin on the broker (without it the send fails with
  // REQUEST_CODE_NOT_SUPPORTED). Set at most one of the three.
  // RocketMQ delay level: 1..18 maps to the broker's messageDelayLevel list (default "1s 5s 10s
  // 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"); higher levels are clamped; 0 clears.
  void set_delay_time_level(int32_t level);
  int32_t delay_time_level() const;  // 0 when unset
  // Deliver at this wall-clock time (ms since the epoch): TIMER_DELIVER_MS.
  void set_deliver_time_ms(int64_t epoch_ms);
  // Deliver this many ms after the send: TIMER_DELAY_MS.
  void set_delay_ms(int64_t ms);

  // Returns "" when the property is absent.
  std::string property(const std::string& name) const;
  void set_property(const std::string& name, std::string value);
  void clear_property(const std::string& name);
  const std::map<std::string, std::string>& properties() const;
  void set_properties(std::map<std::string, std::string> properties);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A message as delivered to a consumer (or returned by a pull).
class MQ_CLIENT_API MessageExt : public Message {
 public:
  MessageExt();
  MessageExt(const MessageExt& other);
  MessageExt(MessageExt&& other) noexcept;
  MessageExt& operator=(const MessageExt& other);
  MessageExt& operator=(MessageExt&& other) noexcept;
  ~MessageExt() override;

  int32_t queue_id() const;
  void set_queue_id(int32_t id);
  int64_t queue_offset() const;
  void set_queue_offset(int64_t offset);
  int64_t commit_log_offset() const;
  void set_commit_log_offset(int64_t offset);
  // The client id (UNIQ_KEY property); falls back to offset_msg_id() when absent.
  std::string msg_id() const;
  // The broker id: store host + commit-log offset as 32 hex chars.
  const std::string& offset_msg_id() const;
  void set_offset_msg_id(std::string id);
  int64_t born_timestamp() const;  // ms since the epoch
  void set_born_timestamp(int64_t ms);
  const std::string& born_host() const;  // "ip:port"
  void set_born_host(std::string host);
  int64_t store_timestamp() const;
  void set_store_timestamp(int64_t ms);
  const std::string& store_host() const;
  void set_store_host(std::string host);
  int32_t reconsume_times() const;
  void set_reconsume_times(int32_t times);
  int32_t store_size() const;
  void set_store_size(int32_t size);

 private:
  struct ExtImpl;
  std::unique_ptr<ExtImpl> ext_;
};

// One queue of a topic on one broker. Ordered by (topic, broker_name, queue_id).
struct MQ_CLIENT_API MessageQueue {
  std::string topic;
  std::string broker_name;
  int32_t queue_id = -1;

  // "topic@broker_name@queue_id", for logs.
  std::string to_string() const;
  friend bool operator==(const MessageQueue&, const MessageQueue&) = default;
  friend auto operator<=>(const MessageQueue&, const MessageQueue&) = default;
};

}  // namespace mq::client

template <>
struct std::hash<mq::client::MessageQueue> {
  size_t operator()(const mq::client::MessageQueue& q) const noexcept {
    size_t h = std::hash<std::string>()(q.topic);
    h = h * 31 + std::hash<std::string>()(q.broker_name);
    return h * 31 + std::hash<int32_t>()(q.queue_id);
  }
};
