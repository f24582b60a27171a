// Big-endian load/store helpers for the on-disk formats (FORMAT.md): every integer the
// store writes is big-endian, as in RocketMQ (Java ByteBuffer).
#pragma once

#include <cstdint>
#include <cstring>

#include "mq/message_record.h"

namespace mq::storage_mmap {

inline void put_be16(char* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void put_be32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put_be64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
// Loads: the kernel's record reader's (mq/message_record.h), one definition for both.
inline uint16_t get_be16(const char* p) {
  return record::load_be16(p);
}
inline uint32_t get_be32(const char* p) {
  return record::load_be32(p);
}
inline uint64_t get_be64(const char* p) {
  return record::load_be64(p);
}

}  // namespace mq::storage_mmap
