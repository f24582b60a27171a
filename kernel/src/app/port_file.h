// Writes a bound port number to a file, atomically, for scripts and test harnesses.
#pragma once

#include <cstdint>
#include <string>

#include "mq/status.h"

namespace mq::kernel {

// Writes "<port>\n" to `path` via a temporary file and rename (readers never see a partial
// file); creates the parent directory.
Status write_port_file(const std::string& path, uint16_t port);

}  // namespace mq::kernel
