// Message / MessageExt / MessageQueue: pimpl value types.
#include "mq/client/message.h"

#include <charconv>

namespace mq::client {

struct Message::Impl {
  std::string topic;
  int32_t flag = 0;
  std::map<std::string, std::string> properties;
  std::string body;
};

Message::Message() : impl_(std::make_unique<Impl>()) {}
Message::Message(std::string topic, std::string body) : impl_(std::make_unique<Impl>()) {
  impl_->topic = std::move(topic);
  impl_->body = std::move(body);
}
Message::Message(std::string topic, std::string tags, std::string keys, std::string body)
    : Message(std::move(topic), std::move(body)) {
  if (!tags.empty()) set_tags(std::move(tags));
  if (!keys.empty()) set_keys(std::move(keys));
}
Message::Message(const Message& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
// A moved-from message is left empty but valid.
Message::Message(Message&& other) noexcept : impl_(std::move(other.impl_)) {
  other.impl_ = std::unique_ptr<Impl>(new (std::nothrow) Impl());
}
Message& Message::operator=(const Message& other) {
  if (this != &other) *impl_ = *other.impl_;
  return *this;
}
Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) std::swap(impl_, other.impl_);
  return *this;
}
Message::~Message() = default;

const std::string& Message::topic() const { return impl_->topic; }
void Message::set_topic(std::string topic) { impl_->topic = std::move(topic); }
std::string Message::tags() const { return property(property::kTags); }
void Message::set_tags(std::string tags) { set_property(property::kTags, std::move(tags)); }
std::string Message::keys() const { return property(property::kKeys); }
void Message::set_keys(std::string keys) { set_property(property::kKeys, std::move(keys)); }
int32_t Message::flag() const { return impl_->flag; }
void Message::set_flag(int32_t flag) { impl_->flag = flag; }
const std::string& Message::body() const { return impl_->body; }
void Message::set_body(std::string body) { impl_->body = std::move(body); }

void Message::set_delay_time_level(int32_t level) {
  if (level <= 0) {
    clear_property(property::kDelayTimeLevel);
  } else {
    set_property(property::kDelayTimeLevel, std::to_string(level));
  }
}
int32_t Message::delay_time_level() const {
  const std::string value = property(property::kDelayTimeLevel);
  int32_t level = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), level);
  return ec == std::errc() && end == value.data() + value.size() ? level : 0;
}
void Message::set_deliver_time_ms(int64_t epoch_ms) { set_property(property::kTimerDeliverMs, std::to_string(epoch_ms)); }
void Message::set_delay_ms(int64_t ms) { set_property(property::kTimerDelayMs, std::to_string(ms)); }

std::string Message::property(const std::string& name) const {
  auto it = impl_->properties.find(name);
  return it == impl_->properties.end() ? std::string() : it->second;
}
void Message::set_property(const std::string& name, std::string value) { impl_->properties[name] = std::move(value); }
void Message::clear_property(const std::string& name) { impl_->properties.erase(name); }
const std::map<std::string, std::string>& Message::properties() const { return impl_->properties; }
void Message::set_properties(std::map<std::string, std::string> properties) {
  impl_->properties = std::move(properties);
}

struct MessageExt::ExtImpl {
  int32_t queue_id = -1;
  int64_t queue_offset = -1;
  int64_t commit_log_offset = -1;
  std::string offset_msg_id;
  int64_t born_timestamp = 0;
  std::string born_host;
  int64_t store_timestamp = 0;
  std::string store_host;
  int32_t reconsume_times = 0;
  int32_t store_size = 0;
};

MessageExt::MessageExt() : ext_(std::make_unique<ExtImpl>()) {}
MessageExt::MessageExt(const MessageExt& other) : Message(other), ext_(std::make_unique<ExtImpl>(*other.ext_)) {}
MessageExt::MessageExt(MessageExt&& other) noexcept : Message(std::move(other)), ext_(std::move(other.ext_)) {
  other.ext_ = std::unique_ptr<ExtImpl>(new (std::nothrow) ExtImpl());
}
MessageExt& MessageExt::operator=(const MessageExt& other) {
  if (this != &other) {
    Message::operator=(other);
    *ext_ = *other.ext_;
  }
  return *this;
}
MessageExt& MessageExt::operator=(MessageExt&& other) noexcept {
  if (this != &other) {
    Message::operator=(std::move(other));
    std::swap(ext_, other.ext_);
  }
  return *this;
}
MessageExt::~MessageExt() = default;

int32_t MessageExt::queue_id() const { return ext_->queue_id; }
void MessageExt::set_queue_id(int32_t id) { ext_->queue_id = id; }
int64_t MessageExt::queue_offset() const { return ext_->queue_offset; }
void MessageExt::set_queue_offset(int64_t offset) { ext_->queue_offset = offset; }
int64_t MessageExt::commit_log_offset() const { return ext_->commit_log_offset; }
void MessageExt::set_commit_log_offset(int64_t offset) { ext_->commit_log_offset = offset; }
std::string MessageExt::msg_id() const {
  std::string id = property(property::kUniqKey);
  return id.empty() ? ext_->offset_msg_id : id;
}
const std::string& MessageExt::offset_msg_id() const { return ext_->offset_msg_id; }
void MessageExt::set_offset_msg_id(std::string id) { ext_->offset_msg_id = std::move(id); }
int64_t MessageExt::born_timestamp() const { return ext_->born_timestamp; }
void MessageExt::set_born_timestamp(int64_t ms) { ext_->born_timestamp = ms; }
const std::string& MessageExt::born_host() const { return ext_->born_host; }
void MessageExt::set_born_host(std::string host) { ext_->born_host = std::move(host); }
int64_t MessageExt::store_timestamp() const { return ext_->store_timestamp; }
void MessageExt::set_store_timestamp(int64_t ms) { ext_->store_timestamp = ms; }
const std::string& MessageExt::store_host() const { return ext_->store_host; }
void MessageExt::set_store_host(std::string host) { ext_->store_host = std::move(host); }
int32_t MessageExt::reconsume_times() const { return ext_->reconsume_times; }
void MessageExt::set_reconsume_times(int32_t times) { ext_->reconsume_times = times; }
int32_t MessageExt::store_size() const { return ext_->store_size; }
void MessageExt::set_store_size(int32_t size) { ext_->store_size = size; }

std::string MessageQueue::to_string() const { return topic + "@" + broker_name + "@" + std::to_string(queue_id); }

}  // namespace mq::client
