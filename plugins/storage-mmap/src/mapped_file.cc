// MappedFile: open/create + mmap, msync, hole punching.
#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mq::storage_mmap {
namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

int64_t page_size() {
  static const int64_t kPage = ::sysconf(_SC_PAGESIZE);
  return kPage;
}

}  // namespace

std::string offset_to_file_name(int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(offset));
  return buf;
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path, int64_t base, int64_t size_if_new) {
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
  if (size == 0) {
    if (::ftruncate(fd, size_if_new) != 0) {
      int err = errno;
      ::close(fd);
      return Status::error(Code::kServiceNotAvailable,
                           "cannot size " + path + " to " + std::to_string(size_if_new) + " bytes: " + errno_text(err));
    }
    size = size_if_new;
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
}

Status MappedFile::flush(int64_t from, int64_t to) const {
  from = std::clamp<int64_t>(from, 0, size_);
  to = std::clamp<int64_t>(to, 0, size_);
  if (to <= from) return Status::ok();
  int64_t start = from / page_size() * page_size();
  if (::msync(data_ + start, static_cast<size_t>(to - start), MS_SYNC) != 0) {
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
  int64_t hole_from = (from + page - 1) / page * page;
  int64_t hole_to = to / page * page;
  bool punched = false;
  if (hole_to > hole_from) {
    punched = ::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, hole_from, hole_to - hole_from) == 0;
  }
  if (punched) {
    std::memset(data_ + from, 0, static_cast<size_t>(hole_from - from));
    std::memset(data_ + hole_to, 0, static_cast<size_t>(to - hole_to));
  } else {
    std::memset(data_ + from, 0, static_cast<size_t>(to - from));
  }
  return flush(from, to);
}

Status MappedFile::unlink() const {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "cannot delete " + path_ + ": " + errno_text(err));
  }
  return Status::ok();
}

}  // namespace mq::storage_mmap
