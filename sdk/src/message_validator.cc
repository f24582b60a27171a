// validate_message implementation.
#include "message_validator.h"

namespace mq::client {

Status validate_topic(const std::string& topic) {
  if (topic.empty()) return Status(code::kIllegalArgument, "the topic is empty; set a topic on the message");
  if (topic.size() > kMaxTopicLength) {
    return Status(code::kIllegalArgument, "topic '" + topic.substr(0, 32) + "...' is " + std::to_string(topic.size()) +
                                              " chars; the limit is " + std::to_string(kMaxTopicLength));
  }
  for (char c : topic) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                   c == '%' || c == '|';
    if (!allowed) {
      return Status(code::kIllegalArgument,
                    "topic '" + topic + "' contains '" + std::string(1, c) + "'; use only [A-Za-z0-9_%|-]");
    }
  }
  return Status::ok();
}

Status validate_message(const Message& message, int64_t max_body_size) {
  if (Status s = validate_topic(message.topic()); !s) return s;
  if (message.body().empty()) {
    return Status(code::kIllegalArgument, "the message body is empty (topic " + message.topic() + ")");
  }
  if (static_cast<int64_t>(message.body().size()) > max_body_size) {
    return Status(code::kIllegalArgument, "the message body is " + std::to_string(message.body().size()) +
                                              " bytes; the limit (max message size) is " +
                                              std::to_string(max_body_size) + " bytes");
  }
  // Stored properties are "name \x01 value \x02 ...": a separator inside a name or value
  // would split it into entries of its own (a forged DELAY or UNIQ_KEY).
  auto reserved = [](const std::string& s) { return s.find_first_of("\x01\x02") != std::string::npos; };
  for (const auto& [name, value] : message.properties()) {
    if (name.empty() || reserved(name) || reserved(value))
      return Status(code::kIllegalArgument, "property '" + name +
                                                "' has an empty name or contains the reserved characters \\x01 or "
                                                "\\x02; remove them from its name and value");
  }
  return Status::ok();
}

}  // namespace mq::client
