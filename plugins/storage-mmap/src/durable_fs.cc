// Checked fsync of files and directories, and durable directory creation.
#include "durable_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace mq::storage_mmap {
namespace {

namespace fs = std::filesystem;

std::atomic<FsyncFn> g_fsync{nullptr};

std::string errno_text(int err) {
  return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")";
}

}  // namespace

void set_fsync_for_testing(FsyncFn fn) noexcept {
  g_fsync.store(fn, std::memory_order_release);
}

Status fsync_fd(int fd, const std::string& path) {
  FsyncFn hook = g_fsync.load(std::memory_order_acquire);
  if ((hook ? hook(fd) : ::fsync(fd)) != 0) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "fsync of " + path + " failed: " + errno_text(err));
  }
  return Status::ok();
}

Status fsync_dir(const std::string& dir) {
  const std::string d = dir.empty() ? "." : dir;
  int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Status::error(Code::kServiceNotAvailable, "cannot open directory " + d + " to fsync it: " + errno_text(err));
  }
  Status st = fsync_fd(fd, d);
  ::close(fd);
  return st;
}

Status fsync_parent_dir(const std::string& path) {
  return fsync_dir(fs::path(path).parent_path().string());
}

Status create_directories(const std::string& dir, std::vector<std::string>* created) {
  std::error_code ec;
  // The directories that do not exist yet, outermost first.
  std::vector<fs::path> missing;
  for (fs::path p = fs::path(dir); !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.insert(missing.begin(), p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::error(Code::kServiceNotAvailable, "cannot create directory " + dir + ": " + ec.message());
  for (const auto& p : missing) created->push_back(p.string());
  return Status::ok();
}

Status create_directories_durably(const std::string& dir) {
  std::vector<std::string> created;
  if (Status st = create_directories(dir, &created); !st) return st;
  for (const auto& p : created) {
    if (Status st = fsync_parent_dir(p); !st) return st;
  }
  return Status::ok();
}

}  // namespace mq::storage_mmap
