// Client message ids (the UNIQ_KEY property), laid out as RocketMQ's MessageClientIDSetter:
// IPv4(4) + pid(2) + instance hash(4) + ms since the start of the month(4) + counter(2),
// as 32 upper-case hex chars. Thread-safe and lock-free but at a month's turn; unique within
// a process (no two ids share time and counter) and across processes (ip, pid, per-process
// random hash).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

namespace mq::client {

class MessageIdGenerator {
 public:
  static constexpr size_t kIdLength = 32;

  MessageIdGenerator(uint32_t ipv4, uint16_t pid, uint32_t instance_hash);
  // The process-wide generator (local ip, pid, a random hash).
  static MessageIdGenerator& instance();

  std::string next();
  // The next id into out[0, kIdLength): no allocation (a producer makes one per message).
  void next_into(char* out);
  // `n` ids into out[0, n * kIdLength), taken with one atomic update for all of them (a
  // batch's ids: the threads of a process share one counter word).
  void next_into(char* out, size_t n);
  // Exposed for tests: the id for a time (ms since the month start) and a counter.
  std::string make(int64_t ms_in_month, uint16_t counter) const;
  // Exposed for tests: the (ms since the epoch, counter) the next id takes at clock reading
  // `now_ms`; with `n`, the first of n consecutive ones (the counter carries into the time).
  std::pair<int64_t, uint16_t> take(int64_t now_ms, uint64_t n = 1);

 private:
  void write(char* out, int64_t ms_in_month, uint16_t counter) const;
  // The id of packed (ms since the epoch << 16 | counter) `packed` into out.
  void write_packed(char* out, uint64_t packed);
  // Takes n packed values: the first is returned.
  uint64_t take_packed(int64_t now_ms, uint64_t n);
  // The month around `now_ms`, packed as month_: under refresh_mu_.
  uint64_t refresh_month(int64_t now_ms);

  char prefix_hex_[20];  // ip, pid and hash: the same in every id
  // (ms since the epoch << 16) | counter of the last id given. Each id takes the larger of
  // (now, 0) and the last plus one, so ids never repeat however coarse the clock or however
  // many come within one of its ticks (past 65,536 in a millisecond the time runs ahead).
  std::atomic<uint64_t> last_{0};
  // (month start, s since the epoch) << 32 | the month's length in s; 0 until the first id.
  // One word, so a reader never sees one month's start with another's length.
  std::atomic<uint64_t> month_{0};
  std::mutex refresh_mu_;
};

}  // namespace mq::client
