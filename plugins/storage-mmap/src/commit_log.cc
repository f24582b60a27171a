// CommitLog: append under the put lock, rolling with blank markers; scans and reads.
#include "commit_log.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "byte_order.h"

namespace mq::storage_mmap {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string CommitLog::queue_key(std::string_view topic, QueueId queue_id) {
  std::string key(topic);
  key += '@';
  key += std::to_string(queue_id);
  return key;
}

ScanResult CommitLog::scan(int64_t from, bool verify_crc) const {
  ScanResult r;
  int64_t off = from;
  while (true) {
    auto file = segments_.find(off);
    if (!file) break;
    int64_t avail = file->end() - off;
    RecordCheck c = check_record(file->data() + (off - file->base()), avail, off, verify_crc);
    if (c.kind == RecordKind::kRecord) {
      off += c.size;
      ++r.records;
    } else if (c.kind == RecordKind::kBlank) {
      off = file->end();
    } else {
      if (c.kind == RecordKind::kCorrupt) r.stop_reason = c.reason;
      break;
    }
  }
  r.end = off;
  return r;
}

Status CommitLog::truncate(int64_t end) {
  if (Status st = segments_.truncate(end); !st) return st;
  std::lock_guard lock(put_mu_);
  closed_ = false;  // a store restarted after stop() appends again
  append_pos_ = end;
  write_pos_.store(end, std::memory_order_release);
  flushed_.store(end, std::memory_order_release);
  return Status::ok();
}

void CommitLog::set_queue_offsets(std::unordered_map<std::string, int64_t> table) {
  std::lock_guard lock(put_mu_);
  queue_offsets_ = std::move(table);
}

Status CommitLog::append(std::span<AppendItem> items, std::vector<AppendOutcome>* out) {
  out->clear();
  out->reserve(items.size());
  std::lock_guard lock(put_mu_);
  if (closed_) return Status::error(Code::kServiceNotAvailable, "message store is stopped");
  if (read_only()) return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());

  const int64_t start = append_pos_;
  int64_t w = start;
  std::shared_ptr<MappedFile> seg = segments_.find(w);
  int64_t ts = std::max(now_ms(), last_store_ts_.load(std::memory_order_relaxed));
  // Queue offsets assigned in this call, applied to the table only on success.
  std::vector<std::pair<std::string, int64_t>> next_offsets;

  auto fail = [&](Status st) {
    // Nothing was published; clear what was written so recovery never finds it.
    while (w > start) {
      auto f = segments_.find(w - 1);
      if (!f) break;
      int64_t from = std::max(start, f->base());
      std::memset(f->data() + (from - f->base()), 0, static_cast<size_t>(w - from));
      w = from;
    }
    return st;
  };

  for (AppendItem& item : items) {
    int32_t size = static_cast<int32_t>(item.rec->bytes.size());
    if (!seg || w + size + kBlankSize > seg->end()) {
      int64_t next_base = seg ? seg->end() : w;
      auto next = segments_.get_or_create(next_base);
      if (!next) return fail(next.status());
      if (seg) {
        // End-of-segment marker: [remaining][BLANK_MAGIC]; readers jump to the next segment.
        char* p = seg->data() + (w - seg->base());
        put_be32(p, static_cast<uint32_t>(seg->end() - w));
        put_be32(p + 4, kBlankMagic);
      }
      seg = std::move(next).value();
      w = seg->base();
      if (w + size + kBlankSize > seg->end())
        return fail(Status::error(Code::kMessageIllegal, "record of " + std::to_string(size) +
                                                             " bytes does not fit in segment " + seg->path() +
                                                             " of " + std::to_string(seg->size()) + " bytes"));
    }
    int64_t qoff = 0;
    if (item.consumes_queue_offset) {
      std::string key = queue_key(item.topic, item.queue_id);
      auto it = std::find_if(next_offsets.begin(), next_offsets.end(), [&](const auto& e) { return e.first == key; });
      if (it == next_offsets.end()) {
        auto t = queue_offsets_.find(key);
        next_offsets.emplace_back(std::move(key), t == queue_offsets_.end() ? 0 : t->second);
        it = next_offsets.end() - 1;
      }
      qoff = it->second++;
    }
    char* rec = item.rec->bytes.data();
    finalize_record(rec, size, item.rec->tail_crc, qoff, w, ts);
    std::memcpy(seg->data() + (w - seg->base()), rec, static_cast<size_t>(size));
    out->push_back(AppendOutcome{w, size, qoff, ts});
    w += size;
  }
  for (auto& [key, next] : next_offsets) queue_offsets_[key] = next;
  append_pos_ = w;
  last_store_ts_.store(ts, std::memory_order_release);
  write_pos_.store(w, std::memory_order_release);
  return Status::ok();
}

void CommitLog::close() {
  std::lock_guard lock(put_mu_);
  closed_ = true;
}

Status CommitLog::flush() {
  std::lock_guard lock(flush_mu_);
  int64_t to = write_pos();
  int64_t from = flushed_.load(std::memory_order_acquire);
  if (to <= from) return Status::ok();
  if (read_only()) return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());
  if (Status st = segments_.flush(from, to); !st) {
    set_read_only(st.message());
    return st;
  }
  flushed_.store(to, std::memory_order_release);
  return Status::ok();
}

void CommitLog::set_read_only(const std::string& reason) {
  std::lock_guard lock(reason_mu_);
  if (read_only_.load(std::memory_order_relaxed)) return;
  read_only_reason_ = reason;
  read_only_.store(true, std::memory_order_release);
}

std::string CommitLog::read_only_reason() const {
  std::lock_guard lock(reason_mu_);
  return read_only_reason_;
}

Result<RecordRef> CommitLog::locate(int64_t offset) const {
  int64_t w = write_pos();
  if (offset < 0 || offset >= w)
    return Status::error(Code::kQueryNotFound, "commit-log offset " + std::to_string(offset) +
                                                   " is outside the written range [" + std::to_string(min_offset()) +
                                                   ", " + std::to_string(w) + ")");
  auto file = segments_.find(offset);
  if (!file)
    return Status::error(Code::kQueryNotFound,
                         "no commit-log segment holds offset " + std::to_string(offset) + " (deleted?)");
  return RecordRef{file, file->data() + (offset - file->base()), file->end() - offset};
}

Result<StoredMessage> CommitLog::read(int64_t offset) const {
  auto ref = locate(offset);
  if (!ref) return ref.status();
  RecordCheck c = check_record(ref->data, ref->to_segment_end, offset, true);
  if (c.kind != RecordKind::kRecord || offset + c.size > write_pos()) {
    std::string why = c.kind == RecordKind::kCorrupt ? c.reason
                      : c.kind == RecordKind::kBlank
                          ? "commit-log offset " + std::to_string(offset) + " is an end-of-segment marker"
                          : "no record at commit-log offset " + std::to_string(offset);
    return Status::error(c.kind == RecordKind::kCorrupt ? Code::kSystemError : Code::kQueryNotFound, why);
  }
  return decode_record(ref->data);
}

}  // namespace mq::storage_mmap
