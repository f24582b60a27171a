// MessageIdGenerator: UNIQ_KEY values.
#include "message_id.h"

#include <ctime>
#include <random>

#include "local_address.h"

namespace mq::client {
namespace {

void put_be(unsigned char* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value & 0xFF);
    value >>= 8;
  }
}

// The coarse real-time clock: no clock-source read (a few ns against tens per id), precise
// to a scheduler tick (1-4 ms) as Java's currentTimeMillis is on many systems. Ids stay
// unique through the counter, which would have to pass 65,536 within one tick to repeat.
int64_t now_ms() {
  std::timespec ts{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

MessageIdGenerator::MessageIdGenerator(uint32_t ipv4, uint16_t pid, uint32_t instance_hash) {
  put_be(prefix_, ipv4, 4);
  put_be(prefix_ + 4, pid, 2);
  put_be(prefix_ + 6, instance_hash, 4);
}

MessageIdGenerator& MessageIdGenerator::instance() {
  static MessageIdGenerator generator(local_ipv4(), static_cast<uint16_t>(process_id()),
                                      static_cast<uint32_t>(std::random_device()()));
  return generator;
}

void MessageIdGenerator::refresh_month(int64_t now) {
  std::time_t secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  month_start_ms_ = static_cast<int64_t>(std::mktime(&tm)) * 1000;
  tm.tm_mon += 1;
  tm.tm_isdst = -1;
  next_month_start_ms_ = static_cast<int64_t>(std::mktime(&tm)) * 1000;
}

std::string MessageIdGenerator::next() {
  int64_t now = now_ms();
  uint16_t counter;
  int64_t start;
  {
    std::lock_guard lock(mu_);
    if (now >= next_month_start_ms_ || now < month_start_ms_) refresh_month(now);
    counter = counter_++;
    start = month_start_ms_;
  }
  return make(now - start, counter);
}

std::string MessageIdGenerator::make(int64_t ms_in_month, uint16_t counter) const {
  unsigned char raw[16];
  for (int i = 0; i < 10; ++i) raw[i] = prefix_[i];
  put_be(raw + 10, static_cast<uint64_t>(ms_in_month) & 0xFFFFFFFFu, 4);
  put_be(raw + 14, counter, 2);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kHex[raw[i] >> 4];
    out[2 * i + 1] = kHex[raw[i] & 0xF];
  }
  return out;
}

}  // namespace mq::client
