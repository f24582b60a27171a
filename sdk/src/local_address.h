// This host's identity as the SDK reports it: a non-loopback IPv4 address (or 127.0.0.1)
// and the process id. Computed once, cached.
#pragma once

#include <cstdint>
#include <string>

namespace mq::client {

// Host byte order, e.g. 0x7F000001.
uint32_t local_ipv4();
// Dotted quad.
std::string local_ip_string();
int32_t process_id();

}  // namespace mq::client
