// Atomic JSON file replacement (temp + fsync + rename + dir fsync) and .bak fallback load.
#include "broker/json_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace mq::kernel {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Status write_and_sync(const std::filesystem::path& file, std::string_view content) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::system("cannot create " + file.string() + ": " + errno_text(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::system("cannot write " + file.string() + ": " + errno_text(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return Status::system("cannot fsync " + file.string() + ": " + errno_text(err));
  }
  if (::close(fd) != 0) return Status::system("cannot close " + file.string() + ": " + errno_text(errno));
  return Status::ok();
}

Status sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::system("cannot open directory " + dir.string() + ": " + errno_text(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::system("cannot fsync directory " + dir.string() + ": " + errno_text(err));
  return Status::ok();
}

// Keeps the current version of `path` as `bak` (hard link; copy where links fail).
Status keep_backup(const std::filesystem::path& path, const std::filesystem::path& bak) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::ok();
  std::filesystem::remove(bak, ec);
  if (::link(path.c_str(), bak.c_str()) == 0) return Status::ok();
  std::filesystem::copy_file(path, bak, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Status::system("cannot keep backup " + bak.string() + ": " + ec.message());
  return Status::ok();
}

enum class ReadOutcome { kMissing, kParsed, kBad };

ReadOutcome read_json(const std::filesystem::path& file, nlohmann::json* out, std::string* error) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return ReadOutcome::kMissing;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *error = "cannot open " + file.string() + ": " + errno_text(errno);
    return ReadOutcome::kBad;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    *out = nlohmann::json::parse(buf.str());
  } catch (const nlohmann::json::exception& e) {
    *error = file.string() + " is not valid JSON (" + e.what() + ")";
    return ReadOutcome::kBad;
  }
  return ReadOutcome::kParsed;
}

}  // namespace

std::filesystem::path temp_path_of(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  p += ".tmp";
  return p;
}

std::filesystem::path backup_path_of(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  p += ".bak";
  return p;
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path tmp = temp_path_of(path);
  if (Status st = write_and_sync(tmp, content); !st) {
    std::error_code ec;
    if (!std::filesystem::is_directory(tmp, ec)) std::filesystem::remove(tmp, ec);
    return st;
  }
  if (Status st = keep_backup(path, backup_path_of(path)); !st) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::system("cannot rename " + tmp.string() + " to " + path.string() + ": " + errno_text(errno));
  std::filesystem::path dir = path.parent_path();
  return sync_dir(dir.empty() ? std::filesystem::path(".") : dir);
}

Result<std::optional<nlohmann::json>> load_json_with_backup(const std::filesystem::path& path,
                                                           spdlog::logger& log) {
  nlohmann::json value;
  std::string error;
  ReadOutcome main = read_json(path, &value, &error);
  if (main == ReadOutcome::kParsed) return std::optional<nlohmann::json>(std::move(value));

  const std::filesystem::path bak = backup_path_of(path);
  std::string bak_error;
  ReadOutcome backup = read_json(bak, &value, &bak_error);
  if (main == ReadOutcome::kMissing) {
    if (backup == ReadOutcome::kParsed) {
      log.warn("{} is missing; using the backup {}", path.string(), bak.string());
      return std::optional<nlohmann::json>(std::move(value));
    }
    return std::optional<nlohmann::json>();
  }
  if (backup == ReadOutcome::kParsed) {
    log.warn("{}; using the previous version {} instead", error, bak.string());
    return std::optional<nlohmann::json>(std::move(value));
  }
  std::string msg = error + "; ";
  msg += backup == ReadOutcome::kMissing ? "no backup " + bak.string() + " exists"
                                         : "the backup is unusable too: " + bak_error;
  msg += "; repair or remove the file";
  return Status::system(std::move(msg));
}

}  // namespace mq::kernel
