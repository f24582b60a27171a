// ConsumeQueue: unit append (idempotent), the write-behind tail, load, truncation, reads.
#include "consume_queue.h"

#include <algorithm>
#include <cstdint>

#include "byte_order.h"

namespace mq::storage_mmap {

namespace {

CqUnit decode_unit(const char* p) {
  return CqUnit{static_cast<int64_t>(get_be64(p)), static_cast<int32_t>(get_be32(p + 8)),
                static_cast<int64_t>(get_be64(p + 12))};
}

}  // namespace

Status ConsumeQueue::load() {
  if (Status st = files_.load(); !st) return st;
  int64_t min = files_.min_offset(0) / kCqUnitSize;
  int64_t max = min;
  // Holes (zero units) are legal anywhere below the end, so the end is found from the back.
  auto files = files_.files();
  for (auto it = files.rbegin(); it != files.rend() && max == min; ++it) {
    const MappedFile& f = **it;
    const char* p = f.data();
    for (int64_t off = f.size() / kCqUnitSize * kCqUnitSize - kCqUnitSize; off >= 0; off -= kCqUnitSize) {
      if (static_cast<int32_t>(get_be32(p + off + 8)) != 0) {
        max = (f.base() + off) / kCqUnitSize + 1;
        break;
      }
    }
  }
  min_offset_.store(min, std::memory_order_release);
  max_offset_.store(max, std::memory_order_release);
  file_end_.store(max, std::memory_order_release);
  flushed_bytes_ = max * kCqUnitSize;
  return Status::ok();
}

Result<MappedFile*> ConsumeQueue::file_for_write(int64_t byte) {
  if (!write_file_ || byte < write_file_->base() || byte >= write_file_->end()) {
    auto file = files_.get_or_create(byte / files_.file_size() * files_.file_size());
    if (!file) return file.status();
    write_file_ = std::move(file).value();
  }
  return write_file_.get();
}

Status ConsumeQueue::put_unit(int64_t queue_offset, const CqUnit& unit) {
  const int64_t end = write_end();
  if (queue_offset < end) return Status::ok();
  if (end == 0 && queue_offset > 0 && files_.empty()) {  // (empty() takes a lock: last)
    // A queue first seen in the middle (its older files are gone): start at its file.
    int64_t base = queue_offset * kCqUnitSize / files_.file_size() * files_.file_size();
    min_offset_.store(base / kCqUnitSize, std::memory_order_release);
    max_offset_.store(base / kCqUnitSize, std::memory_order_release);
    file_end_.store(base / kCqUnitSize, std::memory_order_release);
  }
  if (queue_offset > write_end() && (has_staged() || has_tail())) {
    // A gap: the units before it go to the files, so the tail starts after the holes (which
    // stay zero units in the files, already zero in fresh ones).
    if (Status st = commit(); !st) return st;
    if (Status st = write_out(); !st) return st;
  }
  if (staged_.size() >= kMaxStagedBytes) {
    if (Status st = commit(); !st) return st;
  }
  if (staged_.empty()) staged_first_ = queue_offset;
  char u[kCqUnitSize];
  put_be64(u, static_cast<uint64_t>(unit.commit_log_offset));
  put_be32(u + 8, static_cast<uint32_t>(unit.size));
  put_be64(u + 12, static_cast<uint64_t>(unit.tag_hash));
  staged_.append(u, sizeof u);
  return Status::ok();
}

Status ConsumeQueue::commit() {
  if (staged_.empty()) return Status::ok();
  if (tail_.size() >= kWriteBehindBytes) {
    if (Status st = write_out(); !st) return st;
  }
  const int64_t end = write_end();
  {
    std::lock_guard lock(tail_mu_);
    // An empty tail starts at the staged units (past any holes); a non-empty one ends where
    // they start (put_unit wrote it out at a gap).
    if (tail_.empty()) file_end_.store(staged_first_, std::memory_order_release);
    tail_.append(staged_);
  }
  max_offset_.store(end, std::memory_order_release);
  staged_.clear();
  return Status::ok();
}

Status ConsumeQueue::write_out(bool trim) {
  if (tail_.empty()) return Status::ok();
  // The writer alone changes tail_, so it is read here without the lock. One pwrite per file
  // the tail reaches into.
  const int64_t first = file_end_.load(std::memory_order_relaxed);
  const int64_t begin = first * kCqUnitSize;
  const int64_t stop = begin + static_cast<int64_t>(tail_.size());
  for (int64_t byte = begin; byte < stop;) {
    auto file = file_for_write(byte);
    if (!file) return file.status();
    const int64_t upto = std::min(stop, (*file)->end());
    if (Status st =
            (*file)->write_at(byte - (*file)->base(), tail_.data() + (byte - begin), static_cast<size_t>(upto - byte));
        !st)
      return st;
    byte = upto;
  }
  std::lock_guard lock(tail_mu_);
  file_end_.store(first + static_cast<int64_t>(tail_.size()) / kCqUnitSize, std::memory_order_release);
  if (trim && tail_.size() < kWriteBehindBytes / 8) {
    std::string().swap(tail_);
  } else {
    tail_.clear();
  }
  return Status::ok();
}

Result<int64_t> ConsumeQueue::truncate_beyond(int64_t commit_log_end) {
  // The tail's units go to the files first: those below the new end must stay.
  if (Status st = write_out(); !st) return st;
  int64_t min = min_offset();
  int64_t max = max_offset();
  int64_t new_max = max;
  while (new_max > min) {
    CqUnit u;
    if (!read_unit(new_max - 1, &u)) break;
    if (u.size > 0 && u.commit_log_offset + u.size <= commit_log_end) break;
    --new_max;
  }
  // Zero the dropped units (and anything stale after them) so a restart does not see them.
  // Units still staged were never published: they go too.
  staged_.clear();
  write_file_.reset();
  if (Status st = files_.truncate(new_max * kCqUnitSize); !st) return st;
  max_offset_.store(new_max, std::memory_order_release);
  file_end_.store(new_max, std::memory_order_release);
  if (flushed_bytes_ > new_max * kCqUnitSize) flushed_bytes_ = new_max * kCqUnitSize;
  return max - new_max;
}

int ConsumeQueue::delete_below(int64_t commit_log_min, Status* error) {
  int n = files_.delete_front(
      [&](const MappedFile& f) {
        const char* last = f.data() + (f.size() / kCqUnitSize - 1) * kCqUnitSize;
        int32_t size = static_cast<int32_t>(get_be32(last + 8));
        return size > 0 && static_cast<int64_t>(get_be64(last)) + size <= commit_log_min;
      },
      /*keep=*/1, SIZE_MAX, error);
  int64_t min = std::max(min_offset(), files_.min_offset(0) / kCqUnitSize);
  const int64_t max = max_offset();
  CqUnit u;
  while (min < max && read_unit_raw(min, &u) && (u.size <= 0 || u.commit_log_offset < commit_log_min)) ++min;
  if (min != min_offset()) min_offset_.store(min, std::memory_order_release);
  return n;
}

void ConsumeQueue::reset() {
  staged_.clear();
  {
    std::lock_guard lock(tail_mu_);
    std::string().swap(tail_);
    file_end_.store(0, std::memory_order_release);
  }
  write_file_.reset();
  files_.delete_front([](const MappedFile&) { return true; }, 0, SIZE_MAX);
  min_offset_.store(0, std::memory_order_release);
  max_offset_.store(0, std::memory_order_release);
  flushed_bytes_ = 0;
}

Status ConsumeQueue::validate(int64_t log_min, int64_t log_end, const RecordIdentity& describe) const {
  const std::string where = "consume queue " + topic_ + "/" + std::to_string(queue_id_);
  int64_t prev_end = -1;
  int64_t last_q = -1;
  CqUnit u;
  for (int64_t q = min_offset(); q < max_offset(); ++q) {
    if (!read_unit(q, &u)) return Status::system(where + ": unit " + std::to_string(q) + " is not mapped");
    if (u.size == 0 && u.commit_log_offset == 0 && u.tag_hash == 0) continue;  // hole
    if (u.size < kFixedOverheadForCq || u.commit_log_offset < prev_end || u.commit_log_offset + u.size > log_end)
      return Status::system(where + ": unit " + std::to_string(q) + " (offset " + std::to_string(u.commit_log_offset) +
                            ", size " + std::to_string(u.size) + ") is impossible");
    prev_end = u.commit_log_offset + u.size;
    last_q = q;
  }
  if (last_q < 0) return Status::ok();
  read_unit(last_q, &u);
  if (u.commit_log_offset < log_min) return Status::ok();
  std::string topic;
  QueueId queue = -1;
  int64_t qoff = -1;
  if (!describe(u.commit_log_offset, &topic, &queue, &qoff) || topic != topic_ || queue != queue_id_ || qoff != last_q)
    return Status::system(where + ": unit " + std::to_string(last_q) + " points at commit-log offset " +
                          std::to_string(u.commit_log_offset) + ", which is not that message");
  return Status::ok();
}

Status ConsumeQueue::flush() {
  // Files made since the last flush first: msync covers neither their size and blocks nor
  // their names (the caller then claims the units durable).
  if (Status st = files_.sync_created(); !st) return st;
  int64_t to = file_end() * kCqUnitSize;
  if (to <= flushed_bytes_) return Status::ok();
  if (Status st = files_.flush(flushed_bytes_, to); !st) return st;
  flushed_bytes_ = to;
  return Status::ok();
}

bool ConsumeQueue::read_unit(int64_t queue_offset, CqUnit* out) const {
  if (queue_offset < min_offset() || queue_offset >= max_offset()) return false;
  return read_unit_raw(queue_offset, out);
}

bool ConsumeQueue::read_unit_raw(int64_t queue_offset, CqUnit* out) const {
  if (queue_offset >= file_end() && read_tail_unit(queue_offset, out)) return true;
  // Below file_end(): the files hold it (write_out wrote it before moving file_end()).
  int64_t byte = queue_offset * kCqUnitSize;
  auto file = files_.find(byte);
  if (!file) return false;
  const char* p = file->data() + (byte - file->base());
  *out = decode_unit(p);
  return true;
}

bool ConsumeQueue::read_tail_unit(int64_t queue_offset, CqUnit* out) const {
  std::lock_guard lock(tail_mu_);
  const int64_t first = file_end_.load(std::memory_order_relaxed);
  const int64_t at = (queue_offset - first) * kCqUnitSize;
  if (queue_offset < first || at + kCqUnitSize > static_cast<int64_t>(tail_.size())) return false;
  const char* p = tail_.data() + at;
  *out = decode_unit(p);
  return true;
}

int64_t ConsumeQueue::max_commit_log_end() const {
  CqUnit u;
  for (int64_t q = max_offset() - 1; q >= min_offset(); --q) {
    if (read_unit(q, &u) && u.size > 0) return u.commit_log_offset + u.size;
  }
  return 0;
}

}  // namespace mq::storage_mmap
