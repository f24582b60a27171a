// Encoded message batches: the messages of one send as bytes back to back (SendRequest
// encodedMessages on the wire, docs/protocol.md "Encoded batches"), which the broker stores
// without building a Message per message, as RocketMQ's broker does with a MessageBatch body.
// Per message, every integer big-endian:
//   i32 flag | i32 body length | body | i32 properties length | properties (name \x01 value \x02 ...)
//
// Header-only, standard library only: the client SDK and the benchmark tools include it too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mq/message_record.h"

namespace mq::batch {

inline constexpr size_t kMessageOverhead = 12;  // flag, body length, properties length

// One message of an encoded batch; the views point into the bytes given to parse_encoded_batch.
struct EncodedMessage {
  int32_t flag = 0;
  std::string_view body;
  std::string_view properties;  // well-formed encoded properties (possibly empty)
};

inline void append_be32(uint32_t v, std::string* out) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out->append(b, 4);
}

// Appends one message to `out`. `properties` must be encoded properties (mq/message.h
// append_encoded_properties), possibly empty.
inline void append_encoded_message(int32_t flag, std::string_view body, std::string_view properties, std::string* out) {
  append_be32(static_cast<uint32_t>(flag), out);
  append_be32(static_cast<uint32_t>(body.size()), out);
  out->append(body);
  append_be32(static_cast<uint32_t>(properties.size()), out);
  out->append(properties);
}

// Reads every message of `bytes` into *out (appended; views into `bytes`). Returns an empty
// string, or what is wrong with which message at which byte: a length past the end, bytes
// left over after the last message, malformed properties. Never reads outside `bytes`.
inline std::string parse_encoded_batch(std::string_view bytes, std::vector<EncodedMessage>* out) {
  size_t at = 0;
  for (size_t index = 0; at < bytes.size(); ++index) {
    auto where = [&] { return "encoded message " + std::to_string(index) + " at byte " + std::to_string(at); };
    if (bytes.size() - at < kMessageOverhead)
      return where() + ": only " + std::to_string(bytes.size() - at) + " bytes left, a message takes at least " +
             std::to_string(kMessageOverhead);
    EncodedMessage m;
    m.flag = static_cast<int32_t>(record::load_be32(bytes.data() + at));
    const size_t body_len = record::load_be32(bytes.data() + at + 4);
    if (body_len > bytes.size() - at - kMessageOverhead)
      return where() + ": body length " + std::to_string(body_len) + " runs past the end of the batch";
    m.body = bytes.substr(at + 8, body_len);
    const size_t props_at = at + 8 + body_len;
    const size_t props_len = record::load_be32(bytes.data() + props_at);
    if (props_len > bytes.size() - props_at - 4)
      return where() + ": properties length " + std::to_string(props_len) + " runs past the end of the batch";
    m.properties = bytes.substr(props_at + 4, props_len);
    if (std::string bad = record::for_each_encoded_property(m.properties, [](std::string_view, std::string_view) {});
        !bad.empty())
      return where() + ": " + bad;
    out->push_back(m);
    at = props_at + 4 + props_len;
  }
  return {};
}

}  // namespace mq::batch
