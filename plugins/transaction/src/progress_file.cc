// Atomic read/write of the transaction progress file (see progress_file.h).
#include "progress_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mq::transaction {
namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status::system(what + " " + path + ": " + std::strerror(errno) +
                        "; check the directory's permissions and free space");
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path);
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return rc == 0 ? Status::ok() : io_error("cannot fsync", path);
}

// Finds "\"name\":<int>" in text.
bool find_int(const std::string& text, const char* name, int64_t* out) {
  std::string needle = std::string("\"") + name + "\":";
  auto pos = text.find(needle);
  if (pos == std::string::npos) return false;
  long long v = 0;
  if (std::sscanf(text.c_str() + pos + needle.size(), "%lld", &v) != 1 || v < 0) return false;
  *out = v;
  return true;
}

}  // namespace

Result<Progress> read_progress(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Progress{};
  std::ifstream in(path);
  if (!in) return io_error("cannot read", path);
  std::stringstream ss;
  ss << in.rdbuf();
  Progress p;
  const std::string text = ss.str();
  if (!find_int(text, "halfOffset", &p.half_offset) || !find_int(text, "opOffset", &p.op_offset))
    return Status::system("transaction progress file " + path + " is malformed (want {\"version\":1,\"halfOffset\":N," +
                          "\"opOffset\":N}); restore it or delete it to rescan every half and op record");
  return p;
}

Status write_progress(const std::string& path, const Progress& progress) {
  const std::filesystem::path target(path);
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) return Status::system("cannot create directory " + target.parent_path().string() + ": " + ec.message());
  const std::string tmp = path + ".tmp";
  const std::string data = "{\"version\":1,\"halfOffset\":" + std::to_string(progress.half_offset) +
                           ",\"opOffset\":" + std::to_string(progress.op_offset) + "}\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  Status st = write_all(fd, data, tmp);
  if (st && ::fsync(fd) != 0) st = io_error("cannot fsync", tmp);
  ::close(fd);
  if (!st) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename " + tmp + " to", path);
  return fsync_path(target.parent_path().string(), O_RDONLY | O_DIRECTORY);
}

}  // namespace mq::transaction
