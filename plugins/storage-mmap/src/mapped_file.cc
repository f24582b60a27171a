// MappedFile: open/create + mmap, msync, hole punching.
#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "durable_fs.h"

namespace mq::storage_mmap {
namespace {

std::string errno_text(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}

int64_t page_size() {
  static const int64_t kPage = ::sysconf(_SC_PAGESIZE);
  return kPage;
}

std::atomic<MsyncFn> g_msync{nullptr};
std::atomic<PwriteFn> g_pwrite{nullptr};

}  // namespace

void set_msync_for_testing(MsyncFn fn) noexcept {
  g_msync.store(fn, std::memory_order_release);
}

void set_pwrite_for_testing(PwriteFn fn) noexcept {
  g_pwrite.store(fn, std::memory_order_release);
}

std::string offset_to_file_name(int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(offset));
  return buf;
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path, int64_t base, int64_t size_if_new,
                                                     int64_t grow_to, NewFileSync sync) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "cannot open " + path + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::error(Code::kServiceNotAvailable, "cannot stat " + path + ": " + errno_text(err));
  }
  int64_t size = st.st_size;
  if (size > 0 && grow_to > size) {
    if (::ftruncate(fd, grow_to) != 0) {
      int err = errno;
      ::close(fd);
      return Status::error(Code::kServiceNotAvailable,
                           "cannot extend " + path + " to " + std::to_string(grow_to) + " bytes: " + errno_text(err));
    }
    size = grow_to;
    if (Status st = fsync_fd(fd, path); !st) {  // the new size must survive a crash too
      ::close(fd);
      return st;
    }
  }
  if (size == 0) {
    int rc = ::posix_fallocate(fd, 0, size_if_new);
    if (rc == ENOSPC || rc == EDQUOT) {
      ::ftruncate(fd, 0);
      ::close(fd);
      ::unlink(path.c_str());
      return Status::error(Code::kServiceNotAvailable, "disk full: cannot reserve " + std::to_string(size_if_new) +
                                                           " bytes for " + path + ": " + errno_text(rc));
    }
    if (rc != 0 && ::ftruncate(fd, size_if_new) != 0) {  // no fallocate here: sparse
      int err = errno;
      ::close(fd);
      return Status::error(Code::kServiceNotAvailable,
                           "cannot size " + path + " to " + std::to_string(size_if_new) + " bytes: " + errno_text(err));
    }
    size = size_if_new;
    // A new file: its blocks and size, then its name in the directory, must be durable
    // before anything written to it is acknowledged as flushed (msync covers neither).
    Status st;
    if (sync == NewFileSync::kNow) {
      st = fsync_fd(fd, path);
      if (st) st = fsync_parent_dir(path);
    }
    if (!st) {
      ::close(fd);
      ::unlink(path.c_str());  // not known durable: the next attempt creates it afresh
      return st;
    }
  }
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    int err = errno;
    ::close(fd);
    return Status::error(Code::kServiceNotAvailable,
                         "cannot mmap " + path + " (" + std::to_string(size) + " bytes): " + errno_text(err));
  }
  return std::shared_ptr<MappedFile>(new MappedFile(path, base, size, fd, static_cast<char*>(p)));
}

MappedFile::~MappedFile() {
  ::munmap(data_, static_cast<size_t>(size_));
  ::close(fd_);
  if (int direct = direct_fd_.load(std::memory_order_acquire); direct >= 0) ::close(direct);
}

Status MappedFile::write_at(int64_t at, const char* data, size_t size) const {
  const PwriteFn hook = g_pwrite.load(std::memory_order_acquire);
  const PwriteFn write = hook ? hook : &::pwrite;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd_, data + done, size - done, static_cast<off_t>(at + static_cast<int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      return Status::error(Code::kServiceNotAvailable, "write of " + path_ + " bytes [" + std::to_string(at) + ", " +
                                                           std::to_string(at + static_cast<int64_t>(size)) +
                                                           ") failed: " + errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status MappedFile::flush(int64_t from, int64_t to) const {
  from = std::clamp<int64_t>(from, 0, size_);
  to = std::clamp<int64_t>(to, 0, size_);
  if (to <= from) return Status::ok();
  int64_t start = from / page_size() * page_size();
  MsyncFn hook = g_msync.load(std::memory_order_acquire);
  MsyncFn fn = hook ? hook : &::msync;
  if (fn(data_ + start, static_cast<size_t>(to - start), MS_SYNC) != 0) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "msync of " + path_ + " bytes [" + std::to_string(from) + ", " +
                                                         std::to_string(to) + ") failed: " + errno_text(err));
  }
  return Status::ok();
}

Status MappedFile::zero_range(int64_t from, int64_t to) const {
  from = std::clamp<int64_t>(from, 0, size_);
  to = std::clamp<int64_t>(to, 0, size_);
  if (to <= from) return Status::ok();
  int64_t page = page_size();
  int64_t whole_from = (from + page - 1) / page * page;
  int64_t whole_to = to / page * page;
  // Never punch holes: the range is appended to again (truncate_to), and a write fault on a
  // hole needs a new block; on a full disk that is SIGBUS in the put path, not an error.
  // FALLOC_FL_ZERO_RANGE zeroes whole pages and keeps their blocks allocated; where the file
  // system lacks it, the bytes are zeroed by hand (the blocks stay allocated too).
  bool zeroed = false;
  if (whole_to > whole_from) {
    zeroed = ::fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, whole_from, whole_to - whole_from) == 0;
  }
  if (zeroed) {
    std::memset(data_ + from, 0, static_cast<size_t>(whole_from - from));
    std::memset(data_ + whole_to, 0, static_cast<size_t>(to - whole_to));
  } else {
    std::memset(data_ + from, 0, static_cast<size_t>(to - from));
  }
  return flush(from, to);
}

void MappedFile::advise_no_readahead() const {
  (void)::madvise(data_, static_cast<size_t>(size_), MADV_RANDOM);  // advice only: a failure costs speed
}

void MappedFile::warm_range(int64_t from, int64_t to) const {
  const int64_t page = page_size();
  from = std::max<int64_t>(0, from) / page * page;
  to = std::min(to, size_);
  if (from >= to) return;
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data_ + from, static_cast<size_t>(to - from), MADV_POPULATE_WRITE) == 0) return;
#endif
  for (int64_t off = from; off < to; off += page) {
    // A write fault without changing the byte: an atomic OR with 0 keeps whatever an
    // appender may be writing there at the same time.
    __atomic_fetch_or(data_ + off, 0, __ATOMIC_RELAXED);
  }
}

void MappedFile::drop_cache(int64_t from, int64_t to) const {
  const int64_t page = page_size();
  from = (std::max<int64_t>(0, from) + page - 1) / page * page;
  to = std::min(to, size_) / page * page;
  if (from >= to) return;
  const auto len = static_cast<size_t>(to - from);
  // Both are hints: on failure the pages simply stay cached.
  (void)::madvise(data_ + from, len, MADV_DONTNEED);  // a shared file mapping: only the PTEs go
  (void)::posix_fadvise(fd_, from, static_cast<off_t>(len), POSIX_FADV_DONTNEED);
}

Result<int64_t> MappedFile::read_direct(int64_t at, char* buf, int64_t len) const {
  int fd = direct_fd_.load(std::memory_order_acquire);
  if (fd < 0) {
    // Through /proc so an unlinked segment (retention) still opens while it is mapped.
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    fd = ::open(self.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) fd = ::open(path_.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Status::error(err == EINVAL ? Code::kRequestCodeNotSupported : Code::kSystemError,
                           "cannot open " + path_ + " for direct reads: " + errno_text(err));
    }
    int expected = -1;
    if (!direct_fd_.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) {
      ::close(fd);  // another reader opened it first
      fd = expected;
    }
  }
  int64_t done = 0;
  while (done < len) {
    const ssize_t n = ::pread(fd, buf + done, static_cast<size_t>(len - done), static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      return Status::error(err == EINVAL ? Code::kRequestCodeNotSupported : Code::kSystemError,
                           "direct read of " + path_ + " bytes [" + std::to_string(at + done) + ", " +
                               std::to_string(at + len) + ") failed: " + errno_text(err));
    }
    if (n == 0) break;  // end of file
    done += n;
    // A short read that is not a multiple of the alignment is the end of the file.
    if (n % kDirectAlign != 0) break;
  }
  return done;
}

Status MappedFile::sync_created() const {
  if (Status st = fsync_fd(fd_, path_); !st) return st;
  return fsync_parent_dir(path_);
}

Status MappedFile::unlink() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "cannot delete " + path_ + ": " + errno_text(err));
  }
  return Status::ok();
}

}  // namespace mq::storage_mmap
