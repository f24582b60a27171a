// One memory-mapped, fixed-size file whose name is its 20-digit start offset: the segment
// unit of the commit log and of each consume queue.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mq/status.h"

namespace mq::storage_mmap {

// "00000000000001048576" for 1048576.
std::string offset_to_file_name(int64_t offset);

// Ownership: owns the fd and the mapping; both are released by the destructor, so holders
// of a shared_ptr may keep reading after the file is removed from its queue.
// Threading: the object itself is immutable after open(); callers coordinate who writes
// which bytes (one appender, readers below a published position).
class MappedFile {
 public:
  // Opens `path`, creating it sparse with `size_if_new` bytes when absent. An existing
  // file keeps its own size. `base` is the global offset of byte 0.
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path, int64_t base, int64_t size_if_new);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  int64_t base() const noexcept { return base_; }
  int64_t size() const noexcept { return size_; }
  int64_t end() const noexcept { return base_ + size_; }
  char* data() const noexcept { return data_; }
  const std::string& path() const noexcept { return path_; }

  // msync(MS_SYNC) of the pages covering [from, to) (file-relative). The error names the
  // file and errno.
  Status flush(int64_t from, int64_t to) const;
  // Makes [from, to) read as zeros (hole punching where possible, else memset) and syncs.
  Status zero_range(int64_t from, int64_t to) const;
  // Unlinks the file; the mapping stays valid until the last holder drops it.
  Status unlink() const;

 private:
  MappedFile(std::string path, int64_t base, int64_t size, int fd, char* data)
      : path_(std::move(path)), base_(base), size_(size), fd_(fd), data_(data) {}

  std::string path_;
  int64_t base_;
  int64_t size_;
  int fd_;
  char* data_;
};

}  // namespace mq::storage_mmap
