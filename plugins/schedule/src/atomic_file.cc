// Durable-file helpers (see the header).
#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace mq::schedule {
namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status::system(what + " '" + path + "' failed: " + std::strerror(errno) +
                        "; check the disk and the permissions of storePathRootDir");
}

// The whole of `s` as an integer of type T; false when not a number or out of T's range.
template <typename T>
bool parse_int(const std::string& s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync directory", dir);
  return Status::ok();
}

Status write_file_atomically(const std::string& path, const std::string& content) {
  std::filesystem::path p(path);
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return Status::system("cannot create directory '" + p.parent_path().string() + "': " + ec.message());
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = io_error("write", tmp);
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = io_error("fsync", tmp);
    ::close(fd);
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename to " + path + " from", tmp);
  return fsync_dir(p.parent_path().string());
}

Result<std::optional<std::string>> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
    return Status::system("cannot read '" + path + "'; check its permissions");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

std::string encode_offset_table(const std::map<int32_t, int64_t>& table) {
  std::string out = "{\"offsetTable\":{";
  bool first = true;
  for (const auto& [level, offset] : table) {
    if (!first) out += ',';
    first = false;
    out += '"' + std::to_string(level) + "\":" + std::to_string(offset);
  }
  out += "}}\n";
  return out;
}

Result<std::map<int32_t, int64_t>> decode_offset_table(const std::string& json) {
  size_t at = json.find("\"offsetTable\"");
  if (at == std::string::npos) return Status::invalid("no \"offsetTable\" object in '" + json.substr(0, 200) + "'");
  size_t open = json.find('{', at);
  size_t close = json.find('}', open == std::string::npos ? at : open);
  if (open == std::string::npos || close == std::string::npos)
    return Status::invalid("\"offsetTable\" is not an object in '" + json.substr(0, 200) + "'");
  std::string body = json.substr(open + 1, close - open - 1);
  static const std::regex kPair(R"re("\s*(\d+)\s*"\s*:\s*(-?\d+))re");
  std::map<int32_t, int64_t> out;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), kPair); it != std::sregex_iterator(); ++it) {
    const std::string key = (*it)[1].str();
    const std::string value = (*it)[2].str();
    int32_t level = 0;
    int64_t offset = 0;
    if (!parse_int(key, &level))
      return Status::invalid("delay level key \"" + key + "\" of \"offsetTable\" is not a 32-bit integer");
    if (!parse_int(value, &offset))
      return Status::invalid("offset " + value + " of level " + key + " in \"offsetTable\" is not a 64-bit integer");
    out[level] = offset;
  }
  return out;
}

Result<std::optional<int64_t>> json_int_field(const std::string& json, const std::string& name) {
  std::regex re("\"" + name + R"re("\s*:\s*(-?\d+))re");
  std::smatch m;
  if (!std::regex_search(json, m, re)) return std::optional<int64_t>();
  int64_t v = 0;
  if (!parse_int(m[1].str(), &v))
    return Status::invalid("\"" + name + "\": " + m[1].str() + " is not a 64-bit integer");
  return std::optional<int64_t>(v);
}

}  // namespace mq::schedule
