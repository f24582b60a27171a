// The message model shared by the kernel, plugins and transport: what a producer sends
// (Message) and what the store keeps and returns (StoredMessage).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "mq/message_record.h"
#include "mq/types.h"

namespace mq {

// Property names, as RocketMQ spells them (MessageConst), so tools and habits carry over.
namespace prop {
inline constexpr std::string_view kTags = "TAGS";
inline constexpr std::string_view kKeys = "KEYS";         // space-separated
inline constexpr std::string_view kUniqKey = "UNIQ_KEY";  // client message id
inline constexpr std::string_view kWaitStoreMsgOk = "WAIT";
inline constexpr std::string_view kDelayLevel = "DELAY";
inline constexpr std::string_view kRealTopic = "REAL_TOPIC";
inline constexpr std::string_view kRealQueueId = "REAL_QID";
inline constexpr std::string_view kRetryTopic = "RETRY_TOPIC";
inline constexpr std::string_view kOriginMessageId = "ORIGIN_MESSAGE_ID";
inline constexpr std::string_view kTransactionPrepared = "TRAN_MSG";
inline constexpr std::string_view kProducerGroup = "PGROUP";
}  // namespace prop

// MessageSysFlag transaction type, bits 2-3 of sys_flag. The store gives PREPARED and
// ROLLBACK records no consume-queue unit.
inline constexpr int32_t kTransactionNotType = 0x0;
inline constexpr int32_t kTransactionPreparedType = 0x4;
inline constexpr int32_t kTransactionCommitType = 0x8;
inline constexpr int32_t kTransactionRollbackType = 0xC;
inline constexpr int32_t kTransactionTypeMask = 0xC;

// Limits that are part of the contract.
inline constexpr size_t kMaxTopicLength = 127;             // commit-log V1 topic length byte
inline constexpr size_t kDefaultMaxMessageSize = 4 << 20;  // maxMessageSize default, 4 MiB

// An IPv4 endpoint as stored in commit-log records (born host, store host).
struct HostAddress {
  uint32_t ipv4 = 0;  // host byte order, e.g. 0x7F000001 for 127.0.0.1
  int32_t port = 0;
  std::string to_string() const;  // "127.0.0.1:10911"
  friend bool operator==(const HostAddress&, const HostAddress&) = default;
};

// What a producer sends. Tags and keys are properties, as in RocketMQ.
struct Message {
  std::string topic;
  int32_t flag = 0;  // user flag, stored as is
  std::map<std::string, std::string, std::less<>> properties;
  std::string body;

  std::string_view property(std::string_view name) const {
    auto it = properties.find(name);
    return it == properties.end() ? std::string_view() : std::string_view(it->second);
  }
  void set_property(std::string_view name, std::string value) { properties[std::string(name)] = std::move(value); }
  std::string_view tags() const { return property(prop::kTags); }
  std::string_view keys() const { return property(prop::kKeys); }
};

// A message as stored: the producer's message plus what the broker and store assign.
// Fields marked (store) are filled by MessageStore::put; the rest by the kernel before put.
struct StoredMessage : Message {
  QueueId queue_id = 0;
  int32_t sys_flag = 0;  // RocketMQ MessageSysFlag bits
  int64_t born_timestamp_ms = 0;
  HostAddress born_host;
  HostAddress store_host;
  int32_t reconsume_times = 0;
  CommitLogOffset prepared_transaction_offset{0};
  // (store) assigned on append:
  QueueOffset queue_offset{0};
  CommitLogOffset commit_log_offset{0};
  int64_t store_timestamp_ms = 0;
  int32_t store_size = 0;  // bytes of the whole commit-log record
  uint32_t body_crc = 0;
};

// Properties as a commit-log record stores them: "name\x01value\x02" per entry, in the
// map's (sorted) order (separators in mq/message_record.h). MessageStore::put_views takes
// them in this form.
void append_encoded_properties(const Message& msg, std::string* out);
// Appends one entry "name\x01value\x02" to encoded properties.
void append_encoded_property(std::string_view name, std::string_view value, std::string* out);
// Empty when every property of `msg` can be encoded (a non-empty name, and neither name nor
// value holds \x01 or \x02, which would split or forge entries); else what is wrong.
std::string check_property_characters(const Message& msg);
// The value of `name` in encoded properties (the last entry of that name, as decoding keeps
// the last); empty when absent.
std::string_view find_encoded_property(std::string_view encoded, std::string_view name);
// Adds every entry of `encoded` to msg->properties. Returns an empty string, or what is
// malformed (an entry without its \x01 or final \x02, or with an empty name).
std::string decode_encoded_properties(std::string_view encoded, Message* msg);

// The broker's message id (RocketMQ offsetMsgId): store host IPv4 (4) + port (4) +
// commit-log offset (8), as 32 upper-case hex characters. Decodes back to both parts.
std::string make_offset_msg_id(const HostAddress& store_host, CommitLogOffset offset);
bool decode_offset_msg_id(std::string_view id, HostAddress* store_host, CommitLogOffset* offset);

// Java String.hashCode of the tag string: the consume-queue tag hash, compatible with RocketMQ.
int64_t tag_hash(std::string_view tags) noexcept;

// Topic name rules (RocketMQ TopicValidator): 1..127 chars of [A-Za-z0-9_%|-].
// Returns an empty string when valid, else the reason.
std::string validate_topic_name(std::string_view topic);

// Topics only the broker's plugins write (RocketMQ TopicValidator system topics): delay
// levels, timers, transaction halves and op records, halves past their check maximum, and
// any "rmq_sys_" topic. Clients may read them but never send to them.
bool is_system_topic(std::string_view topic);

// ---- inline definitions (header-only, so plugins link nothing from the kernel) ----

inline std::string HostAddress::to_string() const {
  return std::to_string((ipv4 >> 24) & 0xFF) + "." + std::to_string((ipv4 >> 16) & 0xFF) + "." +
         std::to_string((ipv4 >> 8) & 0xFF) + "." + std::to_string(ipv4 & 0xFF) + ":" + std::to_string(port);
}

inline std::string make_offset_msg_id(const HostAddress& store_host, CommitLogOffset offset) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(32);
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      uint8_t b = static_cast<uint8_t>(v >> (8 * i));
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  };
  put(store_host.ipv4, 4);
  put(static_cast<uint32_t>(store_host.port), 4);
  put(static_cast<uint64_t>(offset.value()), 8);
  return out;
}

inline bool decode_offset_msg_id(std::string_view id, HostAddress* store_host, CommitLogOffset* offset) {
  if (id.size() != 32) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  uint64_t parts[3] = {0, 0, 0};
  const int widths[3] = {8, 8, 16};
  size_t pos = 0;
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < widths[p]; ++i, ++pos) {
      int n = nibble(id[pos]);
      if (n < 0) return false;
      parts[p] = (parts[p] << 4) | static_cast<uint64_t>(n);
    }
  }
  if (store_host) *store_host = HostAddress{static_cast<uint32_t>(parts[0]), static_cast<int32_t>(parts[1])};
  if (offset) *offset = CommitLogOffset(static_cast<int64_t>(parts[2]));
  return true;
}

inline void append_encoded_property(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->push_back(kPropertyNameEnd);
  out->append(value);
  out->push_back(kPropertyEnd);
}

inline void append_encoded_properties(const Message& msg, std::string* out) {
  for (const auto& [k, v] : msg.properties) append_encoded_property(k, v, out);
}

inline std::string check_property_characters(const Message& msg) {
  auto reserved = [](std::string_view s) {
    return s.find(kPropertyNameEnd) != std::string_view::npos || s.find(kPropertyEnd) != std::string_view::npos;
  };
  for (const auto& [k, v] : msg.properties)
    if (k.empty() || reserved(k) || reserved(v))
      return "property '" + k + "' has an empty name or contains the reserved characters \\x01 or \\x02";
  return {};
}

inline std::string_view find_encoded_property(std::string_view encoded, std::string_view name) {
  std::string_view found;
  while (!encoded.empty()) {
    size_t end = encoded.find(kPropertyEnd);
    std::string_view entry = encoded.substr(0, end);
    size_t sep = entry.find(kPropertyNameEnd);
    if (sep != std::string_view::npos && entry.substr(0, sep) == name) found = entry.substr(sep + 1);
    if (end == std::string_view::npos) break;
    encoded.remove_prefix(end + 1);
  }
  return found;
}

inline std::string decode_encoded_properties(std::string_view encoded, Message* msg) {
  return record::for_each_encoded_property(encoded, [msg](std::string_view name, std::string_view value) {
    msg->properties.insert_or_assign(std::string(name), std::string(value));
  });
}

inline int64_t tag_hash(std::string_view tags) noexcept {
  // Java's String.hashCode over UTF-16 code units; tags are ASCII in practice, so bytes
  // are used directly (non-ASCII tags still hash consistently, just not Java-identically).
  int32_t h = 0;
  for (unsigned char c : tags) h = static_cast<int32_t>(31u * static_cast<uint32_t>(h) + c);
  return h;
}

inline bool is_system_topic(std::string_view topic) {
  return topic == "SCHEDULE_TOPIC_XXXX" || topic == "RMQ_SYS_TRANS_HALF_TOPIC" ||
         topic == "RMQ_SYS_TRANS_OP_HALF_TOPIC" || topic == "TRANS_CHECK_MAX_TIME_TOPIC" ||
         topic.substr(0, 8) == "rmq_sys_";
}

inline std::string validate_topic_name(std::string_view topic) {
  if (topic.empty()) return "topic name is empty";
  if (topic.size() > kMaxTopicLength)
    return "topic name is " + std::to_string(topic.size()) + " characters; the limit is " +
           std::to_string(kMaxTopicLength);
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '%' || c == '|';
    if (!ok)
      return std::string("topic name '") + std::string(topic) + "' contains '" + c +
             "'; allowed are letters, digits and _ - % |";
  }
  return {};
}

}  // namespace mq
