// Epoch file I/O and the divergence rule (see epoch_file.h).
#include "epoch_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mq::ha {
namespace {

constexpr std::string_view kHeader = "# mq ha-sync epochs: <epoch> <start commit-log offset>";

Status sys_error(const std::string& what, const std::string& path) {
  return Status::system(what + " " + path + ": " + std::strerror(errno));
}

Status fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return sys_error("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return sys_error("cannot fsync", path);
  return Status::ok();
}

}  // namespace

Status write_file_durably(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error("cannot create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = sys_error("cannot write", tmp);
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = sys_error("cannot fsync", tmp);
    ::close(fd);
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("cannot rename " + tmp + " to", path);
  return fsync_path(dir.string(), O_RDONLY | O_DIRECTORY);
}

Status check_epochs(const EpochList& epochs) {
  for (size_t i = 1; i < epochs.size(); ++i) {
    if (epochs[i].epoch <= epochs[i - 1].epoch || epochs[i].start < epochs[i - 1].start)
      return Status::invalid("epoch " + std::to_string(epochs[i].epoch) + " at " + std::to_string(epochs[i].start) +
                             " does not follow epoch " + std::to_string(epochs[i - 1].epoch) + " at " +
                             std::to_string(epochs[i - 1].start) + " (epochs must increase, starts must not decrease)");
  }
  for (const auto& e : epochs)
    if (e.epoch <= 0 || e.start < 0)
      return Status::invalid("epoch " + std::to_string(e.epoch) + " at " + std::to_string(e.start) +
                             ": epochs are > 0 and starts >= 0");
  return Status::ok();
}

Result<EpochList> load_epochs(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return EpochList{};
    return sys_error("cannot read", path);
  }
  EpochList out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    EpochEntry e;
    std::string extra;
    if (!(fields >> e.epoch >> e.start) || (fields >> extra))
      return Status::system(path + " line " + std::to_string(n) + ": '" + line +
                            "' is not '<epoch> <start offset>'; fix or delete the file (a slave then re-checks its "
                            "log against the master from the start)");
    out.push_back(e);
  }
  if (Status st = check_epochs(out); !st) return Status::system(path + ": " + st.message());
  return out;
}

Status save_epochs(const std::string& path, const EpochList& epochs) {
  std::string text(kHeader);
  text += '\n';
  for (const auto& e : epochs) text += std::to_string(e.epoch) + " " + std::to_string(e.start) + "\n";
  return write_file_durably(path, text);
}

EpochList begin_master_epoch(EpochList epochs, int64_t log_end) {
  int64_t highest = 0;
  for (const auto& e : epochs) highest = std::max(highest, e.epoch);
  std::erase_if(epochs, [&](const EpochEntry& e) { return e.start >= log_end; });
  epochs.push_back(EpochEntry{highest + 1, log_end});
  return epochs;
}

EpochList entries_below(const EpochList& epochs, int64_t log_end) {
  EpochList out;
  for (const auto& e : epochs)
    if (e.start < log_end) out.push_back(e);
  return out;
}

int64_t common_point(const EpochList& own_all, int64_t own_end, const EpochList& master, int64_t master_end) {
  const EpochList own = entries_below(own_all, own_end);
  size_t i = 0;
  while (i < own.size() && i < master.size() && own[i] == master[i]) ++i;
  auto end_of = [](const EpochList& list, size_t idx, int64_t end) {
    return idx + 1 < list.size() ? list[idx + 1].start : end;
  };
  int64_t point = 0;
  if (i == 0) {
    // No common epoch: only bytes written before either side's first known epoch can match.
    point = std::min(own_end, master_end);
    if (!own.empty()) point = std::min(point, own.front().start);
    if (!master.empty()) point = std::min(point, master.front().start);
  } else {
    point = std::min(end_of(own, i - 1, own_end), end_of(master, i - 1, master_end));
  }
  return std::clamp<int64_t>(point, 0, own_end);
}

}  // namespace mq::ha
