// The message record: one stored message as bytes, RocketMQ's V1 commit-log layout with a
// CRC-32C over the whole record. The storage-mmap commit log stores messages in this form
// (its FORMAT.md §2), and a pull that asks for records gets them back to back in it
// (docs/protocol.md), so a store answers with copies of its log and a client reads them in
// place, as RocketMQ's pull response body does.
//
// Header-only, standard library only (and SSE2 intrinsics where the target has them): the
// client SDK includes it too.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mq {

// Encoded properties: "name\x01value\x02" per entry, in name order.
inline constexpr char kPropertyNameEnd = '\x01';
inline constexpr char kPropertyEnd = '\x02';

namespace record {

inline constexpr uint32_t kMagicV1 = 0xDAA320A7u;
inline constexpr int32_t kFixedOverhead = 91;  // IPv4 hosts, 1-byte topic length, 2-byte properties length

// Field positions (bytes from the record start); every integer is big-endian.
namespace pos {
inline constexpr int kTotalSize = 0;
inline constexpr int kMagic = 4;
inline constexpr int kCrc = 8;  // CRC-32C of bytes [0, 8) + [12, size)
inline constexpr int kQueueId = 12;
inline constexpr int kFlag = 16;
inline constexpr int kQueueOffset = 20;
inline constexpr int kPhysicalOffset = 28;
inline constexpr int kSysFlag = 36;
inline constexpr int kBornTimestamp = 40;
inline constexpr int kBornHost = 48;  // IPv4 (4, dotted-quad order) + port (4)
inline constexpr int kStoreTimestamp = 56;
inline constexpr int kStoreHost = 64;
inline constexpr int kReconsumeTimes = 72;
inline constexpr int kPreparedOffset = 76;
inline constexpr int kBodyLength = 84;
inline constexpr int kBody = 88;  // then topic length (1), topic, properties length (2), properties
}  // namespace pos

inline uint16_t load_be16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

// One record read in place: the views point into the bytes given to parse_record.
struct RecordView {
  int32_t size = 0;
  uint32_t crc = 0;
  int32_t queue_id = 0;
  int32_t flag = 0;
  int64_t queue_offset = 0;
  int64_t commit_log_offset = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  uint32_t born_ipv4 = 0;  // host order: 0x7F000001 is 127.0.0.1
  int32_t born_port = 0;
  int64_t store_timestamp_ms = 0;
  uint32_t store_ipv4 = 0;
  int32_t store_port = 0;
  int32_t reconsume_times = 0;
  int64_t prepared_transaction_offset = 0;
  std::string_view body;
  std::string_view topic;
  std::string_view properties;  // encoded, see kPropertyNameEnd
};

// Reads the record at the start of `bytes`. Returns an empty string and fills *out, or says
// what is wrong (bad magic, a size below the fixed overhead or past the end of `bytes`,
// field lengths that do not add up to the size). Never reads outside `bytes`. The CRC is
// read, not checked.
inline std::string parse_record(std::string_view bytes, RecordView* out) {
  if (bytes.size() < static_cast<size_t>(kFixedOverhead))
    return "only " + std::to_string(bytes.size()) + " bytes left; a record takes at least " +
           std::to_string(kFixedOverhead);
  const char* p = bytes.data();
  const uint32_t magic = load_be32(p + pos::kMagic);
  if (magic != kMagicV1) return "bad magic code " + std::to_string(magic);
  const int64_t size = static_cast<int32_t>(load_be32(p + pos::kTotalSize));
  if (size < kFixedOverhead || static_cast<uint64_t>(size) > bytes.size())
    return "record size " + std::to_string(size) + " is impossible with " + std::to_string(bytes.size()) +
           " bytes left";
  const int64_t body_len = load_be32(p + pos::kBodyLength);
  if (body_len > size - kFixedOverhead) return "body length " + std::to_string(body_len) + " exceeds the record";
  const int64_t topic_len = static_cast<unsigned char>(p[pos::kBody + body_len]);
  if (pos::kBody + body_len + 1 + topic_len + 2 > size)
    return "topic length " + std::to_string(topic_len) + " exceeds the record";
  const int64_t props_len = load_be16(p + pos::kBody + body_len + 1 + topic_len);
  if (kFixedOverhead + body_len + topic_len + props_len != size)
    return "field lengths (body " + std::to_string(body_len) + ", topic " + std::to_string(topic_len) +
           ", properties " + std::to_string(props_len) + ") do not add up to the record size " + std::to_string(size);
  out->size = static_cast<int32_t>(size);
  out->crc = load_be32(p + pos::kCrc);
  out->queue_id = static_cast<int32_t>(load_be32(p + pos::kQueueId));
  out->flag = static_cast<int32_t>(load_be32(p + pos::kFlag));
  out->queue_offset = static_cast<int64_t>(load_be64(p + pos::kQueueOffset));
  out->commit_log_offset = static_cast<int64_t>(load_be64(p + pos::kPhysicalOffset));
  out->sys_flag = static_cast<int32_t>(load_be32(p + pos::kSysFlag));
  out->born_timestamp_ms = static_cast<int64_t>(load_be64(p + pos::kBornTimestamp));
  out->born_ipv4 = load_be32(p + pos::kBornHost);
  out->born_port = static_cast<int32_t>(load_be32(p + pos::kBornHost + 4));
  out->store_timestamp_ms = static_cast<int64_t>(load_be64(p + pos::kStoreTimestamp));
  out->store_ipv4 = load_be32(p + pos::kStoreHost);
  out->store_port = static_cast<int32_t>(load_be32(p + pos::kStoreHost + 4));
  out->reconsume_times = static_cast<int32_t>(load_be32(p + pos::kReconsumeTimes));
  out->prepared_transaction_offset = static_cast<int64_t>(load_be64(p + pos::kPreparedOffset));
  out->body = std::string_view(p + pos::kBody, static_cast<size_t>(body_len));
  out->topic = std::string_view(p + pos::kBody + body_len + 1, static_cast<size_t>(topic_len));
  out->properties = std::string_view(p + pos::kBody + body_len + 1 + topic_len + 2, static_cast<size_t>(props_len));
  return {};
}

namespace detail {

// Bit i set when byte i of the 16 at `p` is \x01 or \x02.
inline uint32_t property_separators16(const char* p) {
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i hit =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(kPropertyNameEnd)), _mm_cmpeq_epi8(v, _mm_set1_epi8(kPropertyEnd)));
  return static_cast<uint32_t>(_mm_movemask_epi8(hit));
#else
  uint32_t m = 0;
  for (int i = 0; i < 16; ++i) m |= static_cast<uint32_t>(p[i] == kPropertyNameEnd || p[i] == kPropertyEnd) << i;
  return m;
#endif
}

}  // namespace detail

// Calls f(name, value) for each entry of encoded properties, in order. Returns an empty
// string, or what is malformed (an entry without its \x01 or final \x02, an empty name, two
// \x01 in one entry); entries before the malformed one have been passed to f.
// Finds the separators 16 bytes at a time and visits only them: every send and every store
// of a message runs this over its properties.
template <class F>
std::string for_each_encoded_property(std::string_view encoded, F&& f) {
  const char* d = encoded.data();
  const size_t n = encoded.size();
  size_t entry = 0;                     // where the current entry starts
  size_t sep = std::string_view::npos;  // its first \x01
  bool two = false;                     // it has a second \x01 (reported at its \x02)
  auto where = [&] { return "property entry at byte " + std::to_string(entry) + " has "; };
  for (size_t base = 0; base < n; base += 16) {
    uint32_t m;
    if (n - base >= 16) {
      m = detail::property_separators16(d + base);
    } else if (n >= 16) {  // the last 16 bytes, less those already seen
      m = detail::property_separators16(d + n - 16) >> (16 - (n - base));
    } else {
      char tail[16] = {};  // zeros are no separators
      std::memcpy(tail, d, n);
      m = detail::property_separators16(tail);
    }
    for (; m != 0; m &= m - 1) {
      const size_t i = base + static_cast<size_t>(std::countr_zero(m));
      if (d[i] == kPropertyNameEnd) {
        two = two || sep != std::string_view::npos;
        if (sep == std::string_view::npos) sep = i;
        continue;
      }
      // The entry's \x02: judged as a whole, the same precedence as reading it entry by entry.
      if (sep == std::string_view::npos) return where() + "no \\x01 between name and value";
      if (sep == entry) return where() + "an empty name";
      if (two) return where() + "two \\x01 separators";
      f(std::string_view(d + entry, sep - entry), std::string_view(d + sep + 1, i - sep - 1));
      entry = i + 1;
      sep = std::string_view::npos;
    }
  }
  if (entry != n) return where() + "no terminating \\x02";
  return {};
}

}  // namespace record
}  // namespace mq
