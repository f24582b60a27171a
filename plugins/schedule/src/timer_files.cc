// The on-disk timer log (see the header for the formats).
#include "timer_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "atomic_file.h"

namespace mq::schedule {
namespace {

constexpr size_t kEntrySize = 24;
constexpr size_t kDoneSize = 16;
constexpr size_t kBufferFlushBytes = 8 << 20;  // buffered appends over all files
constexpr uint64_t kCheckSeed = 0x5CED5CED5CED5CEDULL;

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t check2(uint64_t a, uint64_t b) {
  return (a * 0x9E3779B97F4A7C15ULL + b) ^ kCheckSeed;
}

Status io_error(const std::string& what, const std::string& path) {
  return Status::system("schedule timer log: " + what + " '" + path + "' failed: " + std::strerror(errno) +
                        "; check the disk and the permissions of storePathRootDir");
}

}  // namespace

TimerFiles::TimerFiles(std::string dir) : dir_(std::move(dir)) {}

TimerFiles::~TimerFiles() {
  (void)write_all();
}

std::string TimerFiles::slot_path(int64_t slot) const {
  return dir_ + "/slot-" + std::to_string(slot) + ".log";
}
std::string TimerFiles::done_path(int64_t slot) const {
  return dir_ + "/done-" + std::to_string(slot) + ".log";
}
std::string TimerFiles::path_of(const FileKey& key) const {
  if (key.first == 's') return slot_path(key.second);
  if (key.first == 'd') return done_path(key.second);
  return dir_ + "/level-cancel.log";
}

Status TimerFiles::open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::system("cannot create timer directory '" + dir_ + "': " + ec.message());
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("slot-", 0) == 0 && name.size() > 9 && name.ends_with(".log")) {
      try {
        slots_.insert(std::stoll(name.substr(5, name.size() - 9)));
      } catch (const std::exception&) {
      }
    }
  }
  if (ec) return Status::system("cannot list timer directory '" + dir_ + "': " + ec.message());
  return Status::ok();
}

Status TimerFiles::write_out(const FileKey& key) {
  auto it = pending_.find(key);
  if (it == pending_.end() || it->second.empty()) return Status::ok();
  const std::string path = path_of(key);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    dir_dirty_ = true;
  }
  if (fd < 0) return io_error("open", path);
  const std::string& buf = it->second;
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = io_error("write", path);
      ::close(fd);
      // What was written stays written (readers resynchronise on the check word).
      pending_bytes_ -= done;
      it->second.erase(0, done);
      dirty_.insert(key);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  pending_bytes_ -= buf.size();
  pending_.erase(it);
  dirty_.insert(key);
  return Status::ok();
}

Status TimerFiles::write_all() {
  std::vector<FileKey> keys;
  keys.reserve(pending_.size());
  for (const auto& [key, bytes] : pending_) keys.push_back(key);
  Status first;
  for (const FileKey& key : keys)
    if (Status st = write_out(key); !st && first.is_ok()) first = st;  // kept buffered; retried
  return first;
}

Status TimerFiles::append_record(const FileKey& key, const char* bytes, size_t n, bool sync) {
  pending_[key].append(bytes, n);
  pending_bytes_ += n;
  if (sync) {
    if (Status st = write_out(key); !st) return st;
    const std::string path = path_of(key);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path);
    int rc = ::fdatasync(fd);
    ::close(fd);
    if (rc != 0) return io_error("fdatasync", path);
    dirty_.erase(key);
    if (dir_dirty_) {
      if (Status st = fsync_dir(dir_); !st) return st;
      dir_dirty_ = false;
    }
    return Status::ok();
  }
  if (pending_bytes_ >= kBufferFlushBytes) return write_all();
  return Status::ok();
}

Status TimerFiles::append_entry(int64_t slot, const TimerEntry& e) {
  std::string rec;
  rec.reserve(kEntrySize);
  put_u64(rec, static_cast<uint64_t>(e.due_ms));
  put_u64(rec, static_cast<uint64_t>(e.offset));
  put_u64(rec, check2(static_cast<uint64_t>(e.due_ms), static_cast<uint64_t>(e.offset)));
  slots_.insert(slot);
  return append_record({'s', slot}, rec.data(), rec.size(), false);
}

Status TimerFiles::append_done(int64_t slot, int64_t offset, bool sync) {
  std::string rec;
  put_u64(rec, static_cast<uint64_t>(offset));
  put_u64(rec, check2(static_cast<uint64_t>(offset), 0xD0DEULL));
  return append_record({'d', slot}, rec.data(), rec.size(), sync);
}

Result<std::vector<TimerEntry>> TimerFiles::read_slot(int64_t slot) {
  const std::string path = slot_path(slot);
  if (Status st = write_out({'s', slot}); !st) return st;
  auto text = read_whole_file(path);
  if (!text) return text.status();
  std::vector<TimerEntry> out;
  if (!text->has_value()) return out;
  const std::string& bytes = **text;
  out.reserve(bytes.size() / kEntrySize);
  for (size_t i = 0; i + kEntrySize <= bytes.size();) {
    uint64_t due = get_u64(bytes.data() + i), off = get_u64(bytes.data() + i + 8);
    if (get_u64(bytes.data() + i + 16) != check2(due, off)) {
      ++i;  // torn write or zero-filled tail: resynchronise byte by byte
      continue;
    }
    out.push_back(TimerEntry{static_cast<int64_t>(due), static_cast<int64_t>(off)});
    i += kEntrySize;
  }
  return out;
}

Result<std::unordered_set<int64_t>> TimerFiles::read_done(int64_t slot) {
  const std::string path = done_path(slot);
  if (Status st = write_out({'d', slot}); !st) return st;
  auto text = read_whole_file(path);
  if (!text) return text.status();
  std::unordered_set<int64_t> out;
  if (!text->has_value()) return out;
  const std::string& bytes = **text;
  for (size_t i = 0; i + kDoneSize <= bytes.size();) {
    uint64_t off = get_u64(bytes.data() + i);
    if (get_u64(bytes.data() + i + 8) != check2(off, 0xD0DEULL)) {
      ++i;
      continue;
    }
    out.insert(static_cast<int64_t>(off));
    i += kDoneSize;
  }
  return out;
}

Status TimerFiles::sync_all() {
  Status first = write_all();
  for (const FileKey& key : dirty_) {
    const std::string path = path_of(key);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // removed since
      if (first.is_ok()) first = io_error("open", path);
      continue;
    }
    if (::fdatasync(fd) != 0 && first.is_ok()) first = io_error("fdatasync", path);
    ::close(fd);
  }
  dirty_.clear();
  if (dir_dirty_) {
    if (Status st = fsync_dir(dir_); !st && first.is_ok()) first = st;
    dir_dirty_ = false;
  }
  return first;
}

Status TimerFiles::remove_slot(int64_t slot) {
  for (const FileKey& key : {FileKey{'s', slot}, FileKey{'d', slot}}) {
    if (auto it = pending_.find(key); it != pending_.end()) {
      pending_bytes_ -= it->second.size();
      pending_.erase(it);
    }
    dirty_.erase(key);
    const std::string path = path_of(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("unlink", path);
  }
  slots_.erase(slot);
  dir_dirty_ = true;
  return Status::ok();
}

Status TimerFiles::append_level_cancel(int32_t level, int64_t queue_offset) {
  std::string rec;
  put_u64(rec, static_cast<uint64_t>(level));
  put_u64(rec, static_cast<uint64_t>(queue_offset));
  put_u64(rec, check2(static_cast<uint64_t>(level), static_cast<uint64_t>(queue_offset)));
  return append_record({'c', 0}, rec.data(), rec.size(), true);
}

Result<std::set<std::pair<int32_t, int64_t>>> TimerFiles::read_level_cancels() {
  auto text = read_whole_file(dir_ + "/level-cancel.log");
  if (!text) return text.status();
  std::set<std::pair<int32_t, int64_t>> out;
  if (!text->has_value()) return out;
  const std::string& bytes = **text;
  for (size_t i = 0; i + kEntrySize <= bytes.size();) {
    uint64_t level = get_u64(bytes.data() + i), off = get_u64(bytes.data() + i + 8);
    if (get_u64(bytes.data() + i + 16) != check2(level, off)) {
      ++i;
      continue;
    }
    out.emplace(static_cast<int32_t>(level), static_cast<int64_t>(off));
    i += kEntrySize;
  }
  return out;
}

Status TimerFiles::rewrite_level_cancels(const std::set<std::pair<int32_t, int64_t>>& cancels) {
  const std::string path = path_of({'c', 0});
  if (auto it = pending_.find(FileKey{'c', 0}); it != pending_.end()) {
    pending_bytes_ -= it->second.size();
    pending_.erase(it);
  }
  dirty_.erase(FileKey{'c', 0});
  std::string bytes;
  for (const auto& [level, off] : cancels) {
    put_u64(bytes, static_cast<uint64_t>(level));
    put_u64(bytes, static_cast<uint64_t>(off));
    put_u64(bytes, check2(static_cast<uint64_t>(level), static_cast<uint64_t>(off)));
  }
  return write_file_atomically(path, bytes);
}

}  // namespace mq::schedule
