// The plugin's options (section [transport-thrift] / keys "transport-thrift.<key>"):
// declaration with defaults and validation into TransportOptions.
#pragma once

#include <cstdint>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "io_placement.h"
#include "mq/status.h"

namespace mq::transport_thrift {

inline constexpr const char* kPluginName = "transport-thrift";

struct TransportOptions {
  int io_threads = 2;                              // ioThreads: threads running the io_context
  uint32_t max_frame_size = 16u << 20;             // maxFrameSize: largest request frame, bytes
  uint32_t max_connections = 10000;                // maxConnections: per listener
  uint32_t max_inflight_per_connection = 256;      // maxInflightPerConnection: requests being processed
  uint64_t max_pending_reply_bytes = 64ull << 20;  // maxPendingReplyBytes: unwritten reply bytes
  // busyPollMicros: after its last handler ran, an io thread keeps polling its sockets this
  // long before it sleeps (0: sleep at once).
  uint32_t busy_poll_micros = 50;
  // ioThreadAffinity (auto | on | off): pin io threads to CPUs and serve each connection on
  // the io thread of the CPU its packets arrive on (io_placement.h).
  IoThreadAffinity io_thread_affinity = IoThreadAffinity::kAuto;
};

// Adds transport-thrift.ioThreads, .maxFrameSize, .maxConnections, .maxInflightPerConnection,
// .maxPendingReplyBytes, .busyPollMicros and .ioThreadAffinity with their defaults.
void declare_options(boost::program_options::options_description& out);

// Reads and validates the options; keys that are absent keep their defaults. An invalid
// value yields INVALID_PARAMETER naming the key, the value and the allowed range.
Result<TransportOptions> parse_options(const boost::program_options::variables_map& options);

}  // namespace mq::transport_thrift
