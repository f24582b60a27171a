// Parsing of name server address lists: "host:port;host:port" (also ',' or whitespace).
#pragma once

#include <string>
#include <vector>

#include "mq/client/status.h"

namespace mq::client {

// Fills out with the addresses; an error names the malformed entry. An empty configured value
// falls back to the NAMESRV_ADDR environment variable; both empty -> kNoNameServer.
Status resolve_name_servers(const std::string& configured, std::vector<std::string>* out);

}  // namespace mq::client
