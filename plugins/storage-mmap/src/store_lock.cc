// StoreLock and the abort marker.
#include "store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "durable_fs.h"

namespace mq::storage_mmap {
namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

}  // namespace

Status StoreLock::acquire(const std::string& root) {
  if (fd_ >= 0) return Status::ok();
  std::string path = root + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(Code::kServiceNotAvailable, "cannot open " + path + ": " + errno_text(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("unknown");
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
    if (err == EWOULDBLOCK)
      return Status::error(Code::kServiceNotAvailable, "store directory " + root +
                                                           " is in use by another store (pid " + holder +
                                                           "); stop it or use another storePathRootDir");
    return Status::error(Code::kServiceNotAvailable, "cannot lock " + path + ": " + errno_text(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return Status::error(Code::kServiceNotAvailable, "cannot write " + path + ": " + errno_text(err));
  }
  fd_ = fd;
  return Status::ok();
}

void StoreLock::release() {
  if (fd_ < 0) return;
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

Result<bool> create_abort_file(const std::string& root) {
  std::string path = root + "/abort";
  bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(Code::kServiceNotAvailable, "cannot create " + path + ": " + errno_text(errno));
  Status st = fsync_fd(fd, path);
  ::close(fd);
  // The marker only protects the run if its name is durable before anything is written.
  if (st) st = fsync_parent_dir(path);
  if (!st) return st;
  return existed;
}

Status remove_abort_file(const std::string& root) {
  std::string path = root + "/abort";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Status::error(Code::kServiceNotAvailable, "cannot delete " + path + ": " + errno_text(errno));
  return fsync_parent_dir(path);
}

}  // namespace mq::storage_mmap
