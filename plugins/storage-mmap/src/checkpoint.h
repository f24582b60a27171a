// The `checkpoint` file (FORMAT.md §4): how far the commit log and the consume queues are
// known to be on disk, so crash recovery can start there instead of at offset 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mq/status.h"

namespace mq::storage_mmap {

struct CheckpointData {
  int64_t commit_log_flushed = 0;   // commit log msync'd below this offset
  int64_t consume_queue_safe = 0;   // every record below this offset has its CQ unit on disk
  int64_t physic_msg_timestamp = 0; // store time of the last record below commit_log_flushed
  int64_t written_at_ms = 0;        // wall time of this write
  // Where crash recovery may start: every record below it is durable and indexed.
  int64_t safe_offset() const { return commit_log_flushed < consume_queue_safe ? commit_log_flushed : consume_queue_safe; }
};

// Reads `path`. nullopt when the file is absent; an unreadable, short or CRC-bad file is
// also nullopt with *warning set (recovery then starts from the beginning).
std::optional<CheckpointData> load_checkpoint(const std::string& path, std::string* warning);
// Writes atomically: <path>.tmp, fdatasync, rename, fsync of the directory.
Status store_checkpoint(const std::string& path, const CheckpointData& data);
// <path>.tmp, fdatasync, rename over `path`, fsync of the directory.
Status write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace mq::storage_mmap
