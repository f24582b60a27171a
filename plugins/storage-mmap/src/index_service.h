// The key index (FORMAT.md §5): index/<20-digit first commit-log offset> files filled by
// the dispatcher, queried by "topic#key" and time range, rebuilt from the commit log when
// missing or garbled, trimmed below the commit log's minimum offset.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "index_file.h"
#include "mq/status.h"
#include "record_codec.h"

namespace mq::storage_mmap {

// Threading: index_record from the dispatching thread and flush from the queue flush thread
// (a unique lock per call), query from any thread (shared lock), load/reset only before the
// store starts.
class IndexService {
 public:
  IndexService(std::string dir, int32_t slots, int32_t entries, bool enabled)
      : dir_(std::move(dir)), slots_(slots), entries_(entries), enabled_(enabled) {}

  struct LoadOutcome {
    bool rebuild = false;  // files missing or garbled (now removed): index from the first record
    std::string reason;
  };
  // Opens every index file. Any invalid file makes the whole index be dropped and rebuilt.
  Result<LoadOutcome> load();
  bool enabled() const noexcept { return enabled_; }
  // After a crash (load() kept the files): IndexFile::repair_slots on the newest file, the
  // only one written since its last flush. Returns what was repaired, empty if nothing.
  // Reads every slot of that file, so only after a crash.
  std::string repair_after_crash();

  // Records below `offset` are already indexed (clean start): index_record skips them.
  void set_skip_below(int64_t offset) { skip_below_ = offset; }
  // End offset of the last indexed record (0 when empty).
  int64_t end_offset() const;

  // Indexes the keys of one record (KEYS split on ' ', and UNIQ_KEY) as "topic#key".
  Status index_record(int64_t offset, int32_t size, const RecordSummary& s);
  // Commit-log offsets of candidates, newest first, deduplicated, at most max.
  std::vector<int64_t> query(const std::string& topic, const std::string& key, size_t max, int64_t begin_ms,
                             int64_t end_ms) const;
  // msyncs the files sealed since the last call, then writes the newest file's header and
  // msyncs it; also returns (every time) the failure of an earlier flush
  // of a sealed file, after which the index is marked for rebuild.
  Status flush();
  // Deletes files (never the last) whose records all end at or below `log_min`, then
  // fsyncs the directory. `error` (optional) gets the first unlink / fsync failure.
  int delete_below(int64_t log_min, Status* error = nullptr);
  // Makes the next load() drop and rebuild the whole index: writes the marker file
  // <dir>/REBUILD (durably) holding `reason`. Returns an error if it cannot be written.
  Status mark_for_rebuild(const std::string& reason);
  size_t file_count() const;

 private:
  static constexpr const char* kRebuildMarker = "REBUILD";
  // Adds an entry whose index_key_hash is `hash`, rolling to a new file when the last is full.
  Status put_key(int32_t hash, int64_t offset, int64_t ts, int64_t end);

  std::string dir_;
  int32_t slots_;
  int32_t entries_;
  bool enabled_;
  int64_t skip_below_ = 0;     // dispatcher thread only
  Status sealed_flush_error_;  // guarded by mu_: a sealed file that could not be flushed
  std::vector<std::shared_ptr<MappedFile>> sealed_unflushed_;  // guarded by mu_: for the next flush()
  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<IndexFile>> files_;  // guarded by mu_; ascending begin offset
  // Dispatching thread only: the hasher of "<hasher_topic_>#" keys, kept across records.
  std::string hasher_topic_;
  std::optional<IndexKeyHasher> hasher_;
};

}  // namespace mq::storage_mmap
