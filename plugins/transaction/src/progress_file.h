// The check service's progress, <storeRoot>/config/transactionProgress.json:
//   {"version":1,"halfOffset":H,"opOffset":O}
// Every half below queue offset H has a final op record; every op record of a half at or
// above H is at or above op queue offset O. Written atomically (temp file, fsync, rename,
// fsync directory), so a crash leaves the old or the new file, never a torn one.
#pragma once

#include <cstdint>
#include <string>

#include "mq/status.h"

namespace mq::transaction {

struct Progress {
  int64_t half_offset = 0;
  int64_t op_offset = 0;
  friend bool operator==(const Progress&, const Progress&) = default;
};

// A missing file is Progress{0, 0}; a malformed one is an error naming the file.
Result<Progress> read_progress(const std::string& path);
Status write_progress(const std::string& path, const Progress& progress);

}  // namespace mq::transaction
