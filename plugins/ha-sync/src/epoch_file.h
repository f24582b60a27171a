// Epochs: the history of which master term wrote which part of the commit log, kept in
// <storeRoot>/ha.epoch, and the divergence rule a slave applies before replicating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mq/status.h"

namespace mq::ha {

// Epoch `epoch` wrote the commit log from `start` up to the next entry's start (or the end).
struct EpochEntry {
  int64_t epoch = 0;
  int64_t start = 0;
  bool operator==(const EpochEntry&) const = default;
};

// A sorted list: epochs strictly increasing, starts non-decreasing.
using EpochList = std::vector<EpochEntry>;

// Text file, one "<epoch> <start>" per line after the header line. Missing file: empty.
// Errors name the file and the line.
Result<EpochList> load_epochs(const std::string& path);
// Atomic and durable: temp file, fsync, rename, directory fsync.
Status save_epochs(const std::string& path, const EpochList& epochs);
Status check_epochs(const EpochList& epochs);

// A master starting: drops entries that describe no data (start >= log_end) and appends a
// new epoch (one more than any epoch ever listed) starting at `log_end`.
EpochList begin_master_epoch(EpochList epochs, int64_t log_end);

// Entries that describe bytes of a log ending at `log_end` (start < log_end).
EpochList entries_below(const EpochList& epochs, int64_t log_end);

// Where a slave's log (its epochs, ending at own_end) and the master's (ending at
// master_end) stop being the same history: the end of their longest common epoch prefix,
// clipped to both ends. The slave keeps [0, point) and drops the rest.
int64_t common_point(const EpochList& own, int64_t own_end, const EpochList& master, int64_t master_end);

// Writes `content` to `path` atomically and durably (shared by ha.port and delayOffset.json).
Status write_file_durably(const std::string& path, std::string_view content);

}  // namespace mq::ha
