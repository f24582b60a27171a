// Client message ids (the UNIQ_KEY property), laid out as RocketMQ's MessageClientIDSetter:
// IPv4(4) + pid(2) + instance hash(4) + ms since the start of the month(4) + counter(2),
// as 32 upper-case hex chars. Thread-safe; unique within a process (the counter plus the
// time field) and across processes (ip, pid, per-process random hash).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mq::client {

class MessageIdGenerator {
 public:
  MessageIdGenerator(uint32_t ipv4, uint16_t pid, uint32_t instance_hash);
  // The process-wide generator (local ip, pid, a random hash).
  static MessageIdGenerator& instance();

  std::string next();
  // Exposed for tests: the id for a time (ms since the month start) and a counter.
  std::string make(int64_t ms_in_month, uint16_t counter) const;

 private:
  unsigned char prefix_[10];
  std::mutex mu_;
  int64_t month_start_ms_ = 0;
  int64_t next_month_start_ms_ = 0;
  uint16_t counter_ = 0;
  void refresh_month(int64_t now_ms);
};

}  // namespace mq::client
