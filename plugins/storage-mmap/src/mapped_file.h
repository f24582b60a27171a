// One memory-mapped, fixed-size file whose name is its 20-digit start offset: the segment
// unit of the commit log and of each consume queue.
#pragma once

#include <sys/types.h>  // ssize_t, off_t

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "mq/status.h"

namespace mq::storage_mmap {

// "00000000000001048576" for 1048576.
std::string offset_to_file_name(int64_t offset);

// Fault-injection seam of the flush path: every MappedFile::flush calls this instead of
// ::msync when set (process-wide; tests only). It returns 0 or -1 with errno set.
using MsyncFn = int (*)(void* addr, size_t len, int flags);
void set_msync_for_testing(MsyncFn fn) noexcept;  // nullptr restores ::msync
// The same for MappedFile::write_at's ::pwrite.
using PwriteFn = ssize_t (*)(int fd, const void* buf, size_t count, off_t offset);
void set_pwrite_for_testing(PwriteFn fn) noexcept;  // nullptr restores ::pwrite

// Whether MappedFile::open makes a file it creates durable before returning (an fsync of the
// file, then of its directory) or leaves that to its caller (MappedFile::sync_created).
enum class NewFileSync { kNow, kByCaller };

// Ownership: owns the fd and the mapping; both are released by the destructor, so holders
// of a shared_ptr may keep reading after the file is removed from its queue.
// Threading: the object itself is immutable after open(); callers coordinate who writes
// which bytes (one appender, readers below a published position).
class MappedFile {
 public:
  // Opens `path`, creating it with `size_if_new` bytes when absent (blocks reserved with
  // fallocate where the file system can, so a full disk fails here and not as SIGBUS on
  // a later write; sparse otherwise), then, with NewFileSync::kNow, fsyncs the file and its
  // directory (on failure the new file is removed and the error names it). An existing
  // file keeps its own size. `base` is the global offset of byte 0.
  // `grow_to` > 0: an existing file shorter than that is first extended with zeros (a
  // segment cut short by a crash or an operator, so the next segment stays contiguous).
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path, int64_t base, int64_t size_if_new,
                                                  int64_t grow_to = 0, NewFileSync sync = NewFileSync::kNow);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  int64_t base() const noexcept { return base_; }
  int64_t size() const noexcept { return size_; }
  int64_t end() const noexcept { return base_ + size_; }
  char* data() const noexcept { return data_; }
  const std::string& path() const noexcept { return path_; }

  // pwrite of `size` bytes at file-relative `at` (whole, retrying short writes); the mapping
  // sees them (one page cache). The error names the file and range.
  Status write_at(int64_t at, const char* data, size_t size) const;
  // msync(MS_SYNC) of the pages covering [from, to) (file-relative). The error names the
  // file and errno.
  Status flush(int64_t from, int64_t to) const;
  // Makes [from, to) read as zeros (hole punching where possible, else memset) and syncs.
  Status zero_range(int64_t from, int64_t to) const;
  // Pre-faults every page writable (MADV_POPULATE_WRITE, else an atomic OR with 0 per
  // page) so the appender takes no page faults. Never changes a byte: safe while written.
  void warm() const { warm_range(0, size_); }
  // Pre-faults the pages holding bytes [from, to) of the file (clamped to it).
  void warm_range(int64_t from, int64_t to) const;
  // A page fault maps only the page touched (MADV_RANDOM): no read-ahead of pages around
  // it, which for a file's unwritten part means zeroing pages long before they are used.
  void advise_no_readahead() const;
  // Lets the kernel free the page-cache pages wholly inside [from, to) (file-relative): unmaps
  // them from this mapping and drops the clean ones (dirty pages stay). Never changes a byte;
  // a later read faults them back in from the disk. Safe while readers use the range.
  void drop_cache(int64_t from, int64_t to) const;
  // fsync of the file, then of its directory: what open() leaves to a caller that passed
  // NewFileSync::kByCaller. The error names the file or directory.
  Status sync_created() const;
  // Unlinks the file; the mapping stays valid until the last holder drops it.
  Status unlink() const;
  // Reads up to `len` bytes at file-relative `at` into `buf` with O_DIRECT: from the disk
  // into the caller's memory, no page-cache page allocated or touched. `at`, `len` and `buf`
  // must be multiples of kDirectAlign. Returns the bytes read (short only at the end of the
  // file). kRequestCodeNotSupported when the file system refuses O_DIRECT; the caller reads
  // through the mapping instead. Only bytes already flushed are current on the disk.
  Result<int64_t> read_direct(int64_t at, char* buf, int64_t len) const;
  static constexpr int64_t kDirectAlign = 4096;

 private:
  MappedFile(std::string path, int64_t base, int64_t size, int fd, char* data)
      : path_(std::move(path)), base_(base), size_(size), fd_(fd), data_(data) {}

  std::string path_;
  int64_t base_;
  int64_t size_;
  int fd_;
  char* data_;
  // read_direct's O_DIRECT descriptor of the same file, opened on first use (-1: not yet);
  // the one lazily set member, published by compare-exchange, closed by the destructor.
  mutable std::atomic<int> direct_fd_{-1};
};

}  // namespace mq::storage_mmap
