// An ordered, contiguous list of MappedFiles in one directory (commit-log segments or one
// consume queue's files), addressed by global offset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mapped_file.h"
#include "mq/status.h"

namespace mq::storage_mmap {

// Threading: all methods are safe from any thread (a shared_mutex guards the list; file
// contents are coordinated by the owner). New files are added only at the end.
class MappedFileQueue {
 public:
  MappedFileQueue(std::string dir, int64_t file_size) : dir_(std::move(dir)), file_size_(file_size) {}

  // Maps every file whose name is 20 digits. Files must be contiguous (each starts where
  // the previous ends); an error names the gap. Other names are ignored.
  Status load();

  const std::string& dir() const noexcept { return dir_; }
  int64_t file_size() const noexcept { return file_size_; }
  // Files mapped from now on fault in only the pages touched (MappedFile::advise_no_readahead):
  // for files written a few bytes at a time in many places at once (consume queues). Before use.
  void set_no_readahead() noexcept { no_readahead_ = true; }
  // Files and directories get_or_create() makes from now on are not fsynced there:
  // sync_created() does it, and the owner calls it before it claims anything written to
  // them durable. For consume queues, made on the dispatcher's path, where three fsyncs per
  // new queue (~3 ms each under a write load) held it for seconds when 1,024 queues
  // appeared at once. Before use.
  void set_deferred_create_sync() noexcept { deferred_create_sync_ = true; }
  // fsyncs what get_or_create() made since the last call: each new directory's parent
  // (outermost first), then each new file and its directory. On error all of it stays
  // pending for the next call.
  Status sync_created();
  bool empty() const;
  // The file whose [base, end) contains `offset`; nullptr if none.
  std::shared_ptr<MappedFile> find(int64_t offset) const;
  std::shared_ptr<MappedFile> first() const;
  std::shared_ptr<MappedFile> last() const;
  std::vector<std::shared_ptr<MappedFile>> files() const;
  // base of the first file, or `empty_value` when there is none.
  int64_t min_offset(int64_t empty_value = 0) const;
  // end of the last file, or `empty_value`.
  int64_t files_end(int64_t empty_value = 0) const;

  // Returns the file starting at `base`, creating it (and any file between the current
  // end and `base`, all of file_size) when needed. `base` must be >= the current end
  // when creating, and a multiple of file_size for the first file.
  // The file is created and mapped without holding the list lock. `warm`: pre-fault it.
  // `created` (optional) tells whether this call created the file at `base`.
  Result<std::shared_ptr<MappedFile>> get_or_create(int64_t base, bool warm = false, bool* created = nullptr);

  // Removes files from the front while pred(file) holds, keeping at least `keep` files and
  // removing at most `max`; unlinks them. Holders of a removed file keep a valid mapping
  // until they drop it (reference counting through shared_ptr), then fsyncs the directory.
  // Returns how many; `error` (optional) gets the first unlink / directory fsync failure.
  int delete_front(const std::function<bool(const MappedFile&)>& pred, size_t keep, size_t max,
                   Status* error = nullptr);

  // Drops everything at and after `end`: deletes files with base > end, zeroes a file that
  // starts exactly at `end` (kept, so appends continue there) and the rest of the file
  // containing `end`. The directory is fsynced after unlinks.
  Status truncate(int64_t end);

  // msync of the global range [from, to).
  Status flush(int64_t from, int64_t to) const;
  // MappedFile::drop_cache over the global range [from, to).
  void drop_cache(int64_t from, int64_t to) const;

 private:
  std::string dir_;
  int64_t file_size_;
  bool no_readahead_ = false;
  bool deferred_create_sync_ = false;
  std::mutex unsynced_mu_;                  // guards the two lists below
  std::vector<std::string> unsynced_dirs_;  // made by get_or_create, outermost first
  std::vector<std::shared_ptr<MappedFile>> unsynced_files_;
  std::mutex create_mu_;  // serializes file creation (get_or_create); never held by readers
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<MappedFile>> files_;  // guarded by mu_, sorted by base
};

}  // namespace mq::storage_mmap
