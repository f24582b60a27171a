// transport-thrift option declaration and validation.
#include "transport_options.h"

#include <string>

namespace po = boost::program_options;

namespace mq::transport_thrift {
namespace {

std::string key(const char* name) { return std::string(kPluginName) + "." + name; }

// Reads an integer option, accepting any integral type the kernel may have stored.
Result<int64_t> read_int(const po::variables_map& options, const char* name, int64_t fallback) {
  auto it = options.find(key(name));
  if (it == options.end() || it->second.empty()) return fallback;
  const auto& value = it->second.value();
  if (const auto* v = boost::any_cast<int64_t>(&value)) return *v;
  if (const auto* v = boost::any_cast<int>(&value)) return static_cast<int64_t>(*v);
  if (const auto* v = boost::any_cast<uint32_t>(&value)) return static_cast<int64_t>(*v);
  if (const auto* v = boost::any_cast<std::string>(&value)) {
    try {
      size_t used = 0;
      int64_t parsed = std::stoll(*v, &used);
      if (used == v->size()) return parsed;
    } catch (const std::exception&) {
    }
    return Status::invalid(key(name) + "='" + *v + "' is not an integer");
  }
  return Status::invalid(key(name) + " has an unexpected type; declare it through transport-thrift's options");
}

// Reads a string option; absent keeps `fallback`.
Result<std::string> read_string(const po::variables_map& options, const char* name, std::string fallback) {
  auto it = options.find(key(name));
  if (it == options.end() || it->second.empty()) return fallback;
  if (const auto* v = boost::any_cast<std::string>(&it->second.value())) return *v;
  return Status::invalid(key(name) + " has an unexpected type; declare it through transport-thrift's options");
}

Result<IoThreadAffinity> parse_affinity(const std::string& value) {
  if (value == "auto") return IoThreadAffinity::kAuto;
  if (value == "on") return IoThreadAffinity::kOn;
  if (value == "off") return IoThreadAffinity::kOff;
  return Status::invalid(key("ioThreadAffinity") + "='" + value + "' is not one of auto, on, off");
}

Status check_range(const char* name, int64_t value, int64_t lo, int64_t hi, const char* hint) {
  if (value >= lo && value <= hi) return Status::ok();
  return Status::invalid(key(name) + "=" + std::to_string(value) + " is out of range; allowed " +
                         std::to_string(lo) + ".." + std::to_string(hi) + " (" + hint + ")");
}

}  // namespace

void declare_options(po::options_description& out) {
  TransportOptions d;
  // clang-format off: one option per entry reads better than the formatter's chain layout
  out.add_options()
      (key("ioThreads").c_str(), po::value<int64_t>()->default_value(d.io_threads),
       "transport-thrift: threads running network I/O and request dispatch")
      (key("maxFrameSize").c_str(), po::value<int64_t>()->default_value(d.max_frame_size),
       "transport-thrift: largest accepted request frame in bytes")
      (key("maxConnections").c_str(), po::value<int64_t>()->default_value(d.max_connections),
       "transport-thrift: open connections allowed per listener")
      (key("maxInflightPerConnection").c_str(), po::value<int64_t>()->default_value(d.max_inflight_per_connection),
       "transport-thrift: requests of one connection processed at once; reading pauses at the limit")
      (key("maxPendingReplyBytes").c_str(),
       po::value<int64_t>()->default_value(static_cast<int64_t>(d.max_pending_reply_bytes)),
       "transport-thrift: unwritten reply bytes allowed per connection; a slower reader is disconnected")
      (key("busyPollMicros").c_str(), po::value<int64_t>()->default_value(d.busy_poll_micros),
       "transport-thrift: microseconds an io thread keeps polling for new requests after its last one "
       "before it sleeps (saves a thread wake-up per request at low load; 0 = never poll)")
      (key("ioThreadAffinity").c_str(), po::value<std::string>()->default_value("auto"),
       "transport-thrift: auto | on | off: pin io threads to CPUs and serve each connection on the io thread "
       "of the CPU its packets arrive on (auto: when ioThreads equals the CPUs the broker may use)");
  // clang-format on
}

Result<TransportOptions> parse_options(const po::variables_map& options) {
  TransportOptions out;
  auto threads = read_int(options, "ioThreads", out.io_threads);
  if (!threads) return threads.status();
  auto frame = read_int(options, "maxFrameSize", out.max_frame_size);
  if (!frame) return frame.status();
  auto connections = read_int(options, "maxConnections", out.max_connections);
  if (!connections) return connections.status();
  auto inflight = read_int(options, "maxInflightPerConnection", out.max_inflight_per_connection);
  if (!inflight) return inflight.status();
  auto pending = read_int(options, "maxPendingReplyBytes", static_cast<int64_t>(out.max_pending_reply_bytes));
  if (!pending) return pending.status();
  auto busy_poll = read_int(options, "busyPollMicros", out.busy_poll_micros);
  if (!busy_poll) return busy_poll.status();
  auto affinity_text = read_string(options, "ioThreadAffinity", "auto");
  if (!affinity_text) return affinity_text.status();
  auto affinity = parse_affinity(*affinity_text);
  if (!affinity) return affinity.status();
  if (Status st = check_range("ioThreads", *threads, 1, 256, "threads"); !st) return st;
  if (Status st = check_range("maxFrameSize", *frame, 1024, 1LL << 30, "bytes, 1 KiB to 1 GiB"); !st) return st;
  if (Status st = check_range("maxConnections", *connections, 1, 1000000, "connections"); !st) return st;
  if (Status st = check_range("maxInflightPerConnection", *inflight, 1, 100000, "requests"); !st) return st;
  if (Status st = check_range("maxPendingReplyBytes", *pending, 64 << 10, 1LL << 40, "bytes, 64 KiB to 1 TiB"); !st)
    return st;
  if (Status st = check_range("busyPollMicros", *busy_poll, 0, 1000000, "microseconds, 0 = never poll"); !st)
    return st;
  out.io_threads = static_cast<int>(*threads);
  out.max_frame_size = static_cast<uint32_t>(*frame);
  out.max_connections = static_cast<uint32_t>(*connections);
  out.max_inflight_per_connection = static_cast<uint32_t>(*inflight);
  out.max_pending_reply_bytes = static_cast<uint64_t>(*pending);
  out.busy_poll_micros = static_cast<uint32_t>(*busy_poll);
  out.io_thread_affinity = *affinity;
  return out;
}

}  // namespace mq::transport_thrift
