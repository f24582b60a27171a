// Unique message id generation.
#include "broker/unique_id.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace mq::kernel {
namespace {

uint32_t process_random() {
  static const uint32_t value = [] {
    std::random_device rd;
    auto now = std::chrono::system_clock::now().time_since_epoch().count();
    return static_cast<uint32_t>(rd()) ^ static_cast<uint32_t>(now);
  }();
  return value;
}

void put_hex(std::string& out, uint64_t v, int bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = bytes - 1; i >= 0; --i) {
    uint8_t b = static_cast<uint8_t>(v >> (8 * i));
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
}

}  // namespace

std::string make_unique_message_id(const HostAddress& host) {
  static std::atomic<uint64_t> counter{0};
  // A 48-bit counter never wraps in practice, so ids are unique within the process.
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  // The first 20 characters (ip, pid, process random) only change with the host: built once
  // per thread and host, not per message.
  thread_local uint32_t prefix_ip = 0;
  thread_local std::string prefix;
  if (prefix.empty() || prefix_ip != host.ipv4) {
    prefix.clear();
    put_hex(prefix, host.ipv4, 4);
    static const uint64_t pid = static_cast<uint64_t>(::getpid()) & 0xFFFF;  // one syscall per process, not per id
    put_hex(prefix, pid, 2);
    put_hex(prefix, process_random(), 4);
    prefix_ip = host.ipv4;
  }
  std::string out;
  out.reserve(32);
  out.append(prefix);
  put_hex(out, n, 6);
  return out;
}

}  // namespace mq::kernel
