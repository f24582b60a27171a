// Checkpoint file read / atomic write.
#include "checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "byte_order.h"
#include "crc32c.h"
#include "durable_fs.h"

namespace mq::storage_mmap {
namespace {

constexpr uint32_t kCheckpointMagic = 0x4D514350;  // "MQCP"
constexpr uint32_t kCheckpointVersion = 1;
constexpr size_t kCheckpointSize = 48;  // 8 header + 4*8 fields + 4 crc + 4 pad

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

}  // namespace

std::optional<CheckpointData> load_checkpoint(const std::string& path, std::string* warning) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) *warning = "cannot open " + path + ": " + errno_text(errno);
    return std::nullopt;
  }
  char buf[kCheckpointSize];
  ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(buf))) {
    *warning = path + " is shorter than " + std::to_string(kCheckpointSize) + " bytes";
    return std::nullopt;
  }
  if (get_be32(buf) != kCheckpointMagic || get_be32(buf + 4) != kCheckpointVersion ||
      get_be32(buf + 40) != crc32c(buf, 40)) {
    *warning = path + " has a bad magic, version or CRC";
    return std::nullopt;
  }
  CheckpointData d;
  d.commit_log_flushed = static_cast<int64_t>(get_be64(buf + 8));
  d.consume_queue_safe = static_cast<int64_t>(get_be64(buf + 16));
  d.physic_msg_timestamp = static_cast<int64_t>(get_be64(buf + 24));
  d.written_at_ms = static_cast<int64_t>(get_be64(buf + 32));
  return d;
}

Status store_checkpoint(const std::string& path, const CheckpointData& data) {
  char buf[kCheckpointSize] = {};
  put_be32(buf, kCheckpointMagic);
  put_be32(buf + 4, kCheckpointVersion);
  put_be64(buf + 8, static_cast<uint64_t>(data.commit_log_flushed));
  put_be64(buf + 16, static_cast<uint64_t>(data.consume_queue_safe));
  put_be64(buf + 24, static_cast<uint64_t>(data.physic_msg_timestamp));
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  put_be64(buf + 32, static_cast<uint64_t>(data.written_at_ms ? data.written_at_ms : now));
  put_be32(buf + 40, crc32c(buf, 40));

  return write_file_atomically(path, std::string_view(buf, sizeof(buf)));
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(Code::kServiceNotAvailable, "cannot create " + tmp + ": " + errno_text(errno));
  bool ok = ::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()) && ::fdatasync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::error(Code::kServiceNotAvailable, "cannot write " + tmp + ": " + errno_text(err));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::error(Code::kServiceNotAvailable, "cannot rename " + tmp + " to " + path + ": " + errno_text(errno));
  // The rename is durable only once the directory is.
  return fsync_parent_dir(path);
}

}  // namespace mq::storage_mmap
