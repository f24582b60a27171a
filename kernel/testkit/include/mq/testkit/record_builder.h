// A message record built field by field from the documented layout (plugins/storage-mmap/
// FORMAT.md §2), not with mq/message_record.h's constants, so tests of readers of records
// check them against the document. Header-only, standard library only (the SDK's tests use it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mq::testkit {

inline void put32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (24 - 8 * i));
}
inline void put64(std::string* s, size_t at, uint64_t v) {
  put32(s, at, static_cast<uint32_t>(v >> 32));
  put32(s, at + 4, static_cast<uint32_t>(v));
}

// Fixed fields: CRC 0x11223344, queue id 3, flag 7, physical offset 1000, sys flag 0x8, born
// 1700000000001 at 10.0.0.1:5555, stored 1700000000002 at 127.0.0.1:10911, reconsumed 2
// times, prepared offset 77.
inline std::string make_record(std::string_view body, std::string_view topic, std::string_view props,
                               int64_t queue_offset = 42) {
  std::string r(91 + body.size() + topic.size() + props.size(), '\0');
  put32(&r, 0, static_cast<uint32_t>(r.size()));
  put32(&r, 4, 0xDAA320A7u);
  put32(&r, 8, 0x11223344u);  // CRC
  put32(&r, 12, 3);           // queue id
  put32(&r, 16, 7);           // flag
  put64(&r, 20, static_cast<uint64_t>(queue_offset));
  put64(&r, 28, 1000);           // physical offset
  put32(&r, 36, 0x8);            // sys flag
  put64(&r, 40, 1700000000001);  // born timestamp
  put32(&r, 48, 0x0A000001);     // born host 10.0.0.1
  put32(&r, 52, 5555);
  put64(&r, 56, 1700000000002);  // store timestamp
  put32(&r, 64, 0x7F000001);     // store host 127.0.0.1
  put32(&r, 68, 10911);
  put32(&r, 72, 2);   // reconsume times
  put64(&r, 76, 77);  // prepared transaction offset
  put32(&r, 84, static_cast<uint32_t>(body.size()));
  size_t at = 88;
  r.replace(at, body.size(), body);
  at += body.size();
  r[at++] = static_cast<char>(topic.size());
  r.replace(at, topic.size(), topic);
  at += topic.size();
  r[at++] = static_cast<char>(props.size() >> 8);
  r[at++] = static_cast<char>(props.size());
  r.replace(at, props.size(), props);
  return r;
}

}  // namespace mq::testkit
