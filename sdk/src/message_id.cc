// MessageIdGenerator: UNIQ_KEY values.
#include "message_id.h"

#include <cstring>
#include <ctime>
#include <random>

#include "local_address.h"

namespace mq::client {
namespace {

// The coarse real-time clock: no clock-source read (a few ns against tens per id), precise
// to a scheduler tick (1-4 ms) as Java's currentTimeMillis is on many systems. Ids stay
// unique through take(), whatever the clock's step.
int64_t now_ms() {
  std::timespec ts{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

constexpr char kHex[] = "0123456789ABCDEF";

// `bytes` bytes of `value`, big-endian, as 2 * bytes hex chars at out.
void put_hex(char* out, uint64_t value, int bytes) {
  for (int i = 2 * bytes - 1; i >= 0; --i) {
    out[i] = kHex[value & 0xF];
    value >>= 4;
  }
}

}  // namespace

MessageIdGenerator::MessageIdGenerator(uint32_t ipv4, uint16_t pid, uint32_t instance_hash) {
  put_hex(prefix_hex_, ipv4, 4);
  put_hex(prefix_hex_ + 8, pid, 2);
  put_hex(prefix_hex_ + 12, instance_hash, 4);
}

MessageIdGenerator& MessageIdGenerator::instance() {
  static MessageIdGenerator generator(local_ipv4(), static_cast<uint16_t>(process_id()),
                                      static_cast<uint32_t>(std::random_device()()));
  return generator;
}

uint64_t MessageIdGenerator::refresh_month(int64_t now) {
  std::lock_guard lock(refresh_mu_);
  std::time_t secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  const int64_t start = static_cast<int64_t>(std::mktime(&tm));
  tm.tm_mon += 1;
  tm.tm_isdst = -1;
  const int64_t length = static_cast<int64_t>(std::mktime(&tm)) - start;
  const uint64_t month = (static_cast<uint64_t>(start) << 32) | static_cast<uint64_t>(length);
  month_.store(month, std::memory_order_release);
  return month;
}

uint64_t MessageIdGenerator::take_packed(int64_t now, uint64_t n) {
  const uint64_t at_now = static_cast<uint64_t>(now) << 16;
  uint64_t last = last_.load(std::memory_order_relaxed);
  uint64_t first;
  do {
    first = at_now > last ? at_now : last + 1;
  } while (!last_.compare_exchange_weak(last, first + n - 1, std::memory_order_relaxed));
  return first;
}

std::pair<int64_t, uint16_t> MessageIdGenerator::take(int64_t now, uint64_t n) {
  const uint64_t first = take_packed(now, n);
  return {static_cast<int64_t>(first >> 16), static_cast<uint16_t>(first & 0xFFFF)};
}

void MessageIdGenerator::write_packed(char* out, uint64_t packed) {
  const auto ms = static_cast<int64_t>(packed >> 16);
  uint64_t month = month_.load(std::memory_order_acquire);
  int64_t start = static_cast<int64_t>(month >> 32) * 1000;
  if (ms < start || ms >= start + static_cast<int64_t>(month & 0xFFFFFFFFu) * 1000) {
    month = refresh_month(ms);
    start = static_cast<int64_t>(month >> 32) * 1000;
  }
  write(out, ms - start, static_cast<uint16_t>(packed & 0xFFFF));
}

void MessageIdGenerator::next_into(char* out) {
  next_into(out, 1);
}

void MessageIdGenerator::next_into(char* out, size_t n) {
  if (n == 0) return;
  const uint64_t first = take_packed(now_ms(), n);
  for (size_t i = 0; i < n; ++i) write_packed(out + i * kIdLength, first + i);
}

std::string MessageIdGenerator::next() {
  std::string out(kIdLength, '0');
  next_into(out.data());
  return out;
}

void MessageIdGenerator::write(char* out, int64_t ms_in_month, uint16_t counter) const {
  std::memcpy(out, prefix_hex_, sizeof prefix_hex_);
  put_hex(out + 20, static_cast<uint64_t>(ms_in_month) & 0xFFFFFFFFu, 4);
  put_hex(out + 28, counter, 2);
}

std::string MessageIdGenerator::make(int64_t ms_in_month, uint16_t counter) const {
  std::string out(kIdLength, '0');
  write(out.data(), ms_in_month, counter);
  return out;
}

}  // namespace mq::client
