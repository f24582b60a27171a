// IndexService: loading, rebuild decision, rollover, query and trimming of index files.
#include "index_service.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "checkpoint.h"
#include "durable_fs.h"

namespace mq::storage_mmap {

namespace fs = std::filesystem;

Result<IndexService::LoadOutcome> IndexService::load() {
  LoadOutcome out;
  std::unique_lock lock(mu_);
  files_.clear();
  if (!enabled_) return out;
  std::error_code ec;
  bool existed = fs::is_directory(dir_, ec);
  if (Status st = create_directories_durably(dir_); !st) return st;
  if (!existed) {
    out.rebuild = true;
    out.reason = "index directory " + dir_ + " is missing";
    return out;
  }
  const std::string marker = dir_ + "/" + kRebuildMarker;
  if (fs::exists(marker, ec)) {
    out.rebuild = true;
    out.reason = "the index was marked for rebuild (" + marker + ")";
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() == 20 && std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    if (out.rebuild) break;
    auto f = IndexFile::open(dir_ + "/" + n);
    if (!f) {
      out.rebuild = true;
      out.reason = f.status().message();
      break;
    }
    files_.push_back(std::move(f).value());
  }
  if (out.rebuild) {
    files_.clear();
    for (const auto& n : names) {
      if (!fs::remove(dir_ + "/" + n, ec) && ec)
        return Status::error(Code::kServiceNotAvailable,
                             "cannot delete index file " + dir_ + "/" + n + " for the rebuild: " + ec.message());
    }
    // The files go before the marker: a crash in between rebuilds again.
    if (Status st = fsync_dir(dir_); !st) return st;
    fs::remove(marker, ec);
    if (ec) return Status::error(Code::kServiceNotAvailable, "cannot delete " + marker + ": " + ec.message());
    if (Status st = fsync_dir(dir_); !st) return st;
  }
  return out;
}

std::string IndexService::repair_after_crash() {
  std::unique_lock lock(mu_);
  // Sealed files were flushed whole; only the newest can hold slots written after its
  // last flush.
  if (files_.empty() || !files_.back()->repair_slots()) return {};
  return "slots of " + files_.back()->path() + " pointed past its flushed entries; rebuilt";
}

int64_t IndexService::end_offset() const {
  std::shared_lock lock(mu_);
  return files_.empty() ? 0 : files_.back()->end_offset();
}

Status IndexService::put_key(int32_t hash, int64_t offset, int64_t ts, int64_t end) {
  if (files_.empty() || files_.back()->full()) {
    // The full file's entries first: a failure leaves everything as it was.
    if (!files_.empty())
      if (Status st = files_.back()->commit(); !st) return st;
    auto f = IndexFile::create(dir_ + "/" + offset_to_file_name(offset), slots_, entries_);
    if (!f) return f.status();
    if (!files_.empty()) {
      // Sealed: its final header now, its msync by the next flush() on the queue flush thread
      // (the dispatcher, which holds this lock, never waits for a whole file's write-back).
      files_.back()->write_header();
      sealed_unflushed_.push_back(files_.back()->mapped());
    }
    files_.push_back(std::move(f).value());
  }
  return files_.back()->put_hashed(hash, offset, ts, end);
}

Status IndexService::index_record(int64_t offset, int32_t size, const RecordSummary& s) {
  if (!enabled_ || offset < skip_below_) return Status::ok();
  if (s.keys.empty() && s.uniq_key.empty()) return Status::ok();
  // Keys are "topic#key"; the hash of the topic's part is kept for the next record's topic.
  if (!hasher_ || s.topic != hasher_topic_) {
    hasher_topic_.assign(s.topic);
    hasher_.emplace(hasher_topic_ + "#");
  }
  std::unique_lock lock(mu_);
  auto one = [&](std::string_view k) { return put_key(hasher_->key(k), offset, s.store_timestamp_ms, offset + size); };
  std::string_view keys = s.keys;
  while (!keys.empty()) {
    size_t sp = keys.find(' ');
    std::string_view k = keys.substr(0, sp);
    if (!k.empty())
      if (Status st = one(k); !st) return st;
    if (sp == std::string_view::npos) break;
    keys.remove_prefix(sp + 1);
  }
  if (!s.uniq_key.empty())
    if (Status st = one(s.uniq_key); !st) return st;
  return Status::ok();
}

std::vector<int64_t> IndexService::query(const std::string& topic, const std::string& key, size_t max, int64_t begin_ms,
                                         int64_t end_ms) const {
  std::vector<int64_t> out;
  std::string k = topic + "#" + key;
  std::shared_lock lock(mu_);
  for (auto it = files_.rbegin(); it != files_.rend() && out.size() < max; ++it) {
    std::vector<int64_t> part;
    (*it)->lookup(k, begin_ms, end_ms, max, &part);
    for (int64_t off : part) {
      if (out.size() >= max) break;
      // Re-indexing after a crash may have added an entry twice.
      if (std::find(out.begin(), out.end(), off) == out.end()) out.push_back(off);
    }
  }
  return out;
}

Status IndexService::flush() {
  std::vector<std::shared_ptr<MappedFile>> sealed;
  std::shared_ptr<MappedFile> last;
  {
    std::unique_lock lock(mu_);
    if (!sealed_flush_error_) return sealed_flush_error_;
    // put() leaves the entries' write and the header to the flush.
    if (!files_.empty())
      if (Status st = files_.back()->commit(); !st)
        return Status::error(st.code(), "key-index entries not written: " + st.message());
    sealed.swap(sealed_unflushed_);
    if (!files_.empty()) {
      files_.back()->write_header();
      last = files_.back()->mapped();
    }
  }
  // No lock across the msyncs.
  for (const auto& f : sealed) {
    if (Status st = f->flush(0, f->size()); !st) {
      // Its entries may be lost: the index goes on (it is secondary) but is rebuilt at the
      // next start, and every later flush() reports this.
      std::unique_lock lock(mu_);
      if (sealed_flush_error_.is_ok()) {
        sealed_flush_error_ = Status::error(st.code(), "sealed key-index file not flushed: " + st.message());
        (void)mark_for_rebuild(st.message());
      }
      return sealed_flush_error_;
    }
  }
  return last ? last->flush(0, last->size()) : Status::ok();
}

int IndexService::delete_below(int64_t log_min, Status* error) {
  std::unique_lock lock(mu_);
  int n = 0;
  Status first;
  while (files_.size() > 1 && files_.front()->end_offset() <= log_min) {
    if (Status st = files_.front()->unlink(); !st && first.is_ok()) first = st;
    files_.erase(files_.begin());
    ++n;
  }
  if (n > 0) {
    if (Status st = fsync_dir(dir_); !st && first.is_ok()) first = st;
  }
  if (error) *error = std::move(first);
  return n;
}

Status IndexService::mark_for_rebuild(const std::string& reason) {
  return write_file_atomically(dir_ + "/" + kRebuildMarker, reason + "\n");
}

size_t IndexService::file_count() const {
  std::shared_lock lock(mu_);
  return files_.size();
}

}  // namespace mq::storage_mmap
