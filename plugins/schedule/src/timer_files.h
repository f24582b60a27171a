// TimerFiles: the on-disk timer log of the schedule plugin, under <storeRoot>/timer/.
//   slot-<N>.log   24-byte entries {due_ms i64, commit_log_offset i64, check u64} of the
//                  timed messages due in minute slot N (N = due_ms / 60000), appended
//   done-<N>.log   16-byte entries {commit_log_offset i64, check u64}: delivered or cancelled
//   level-cancel.log 24-byte entries {level i64, queue_offset i64, check u64}: cancelled
//                  delay-level messages
// Little-endian. A reader skips bytes whose check word does not match (a torn write or a
// zero-filled tail after a crash) and resynchronises byte by byte. Threading: single-threaded (the scheduler thread
// owns it).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mq/status.h"

namespace mq::schedule {

inline constexpr int64_t kSlotMs = 60000;  // one slot file per minute of due time

inline int64_t slot_of(int64_t due_ms) {
  return due_ms >= 0 ? due_ms / kSlotMs : (due_ms - kSlotMs + 1) / kSlotMs;
}

struct TimerEntry {
  int64_t due_ms = 0;
  int64_t offset = 0;  // commit-log offset of the message in the timer topic
};

class TimerFiles {
 public:
  explicit TimerFiles(std::string dir);
  ~TimerFiles();
  TimerFiles(const TimerFiles&) = delete;
  TimerFiles& operator=(const TimerFiles&) = delete;

  // Creates the directory and lists the slot files present.
  Status open();
  // Slots that have a slot file (or buffered entries).
  const std::set<int64_t>& slots() const { return slots_; }

  // Buffered append; durable after sync_all().
  Status append_entry(int64_t slot, const TimerEntry& e);
  // Appends a done mark; with `sync`, fsyncs it before returning (cancellations).
  Status append_done(int64_t slot, int64_t offset, bool sync);
  Result<std::vector<TimerEntry>> read_slot(int64_t slot);
  Result<std::unordered_set<int64_t>> read_done(int64_t slot);
  // Writes every buffer and fsyncs every file written since the last call.
  Status sync_all();
  // Deletes a slot's files (all of its entries are delivered and checkpointed).
  Status remove_slot(int64_t slot);

  Status append_level_cancel(int32_t level, int64_t queue_offset);
  Result<std::set<std::pair<int32_t, int64_t>>> read_level_cancels();
  // Atomically replaces the level-cancel file with `cancels`.
  Status rewrite_level_cancels(const std::set<std::pair<int32_t, int64_t>>& cancels);

 private:
  // A file of the timer directory: kind 's' slot, 'd' done, 'c' level-cancel (slot 0).
  using FileKey = std::pair<char, int64_t>;
  std::string slot_path(int64_t slot) const;
  std::string done_path(int64_t slot) const;
  std::string path_of(const FileKey& key) const;
  // Appends the buffered bytes of `key` to its file (open, write, close).
  Status write_out(const FileKey& key);
  Status write_all();
  Status append_record(const FileKey& key, const char* bytes, size_t n, bool sync);

  std::string dir_;
  std::set<int64_t> slots_;
  // Appends are buffered per file and written in bulk (many slots, few descriptors).
  std::map<FileKey, std::string> pending_;  // bytes not yet written
  size_t pending_bytes_ = 0;
  std::set<FileKey> dirty_;  // written, not fsynced yet
  bool dir_dirty_ = false;   // files created or removed since the last directory fsync
};

}  // namespace mq::schedule
