// CommitLog: append under the put lock, rolling with blank markers; scans and reads.
#include "commit_log.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <iterator>

#include <string.h>  // memmem

#include <boost/container/small_vector.hpp>

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

void CommitLog::queue_key_into(std::string_view topic, QueueId queue_id, std::string* out) {
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, queue_id);
  (void)ec;  // 16 characters hold any int32
  out->assign(topic);
  *out += '@';
  out->append(digits, end);
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
  // After a damaged record, search the whole rest of its segment; after a zero header (the
  // normal end) only a window, so a clean start does not read a mostly empty 1 GiB segment.
  r.valid_after = find_valid_after(off, r.stop_reason.empty() ? kZeroEndSearchWindow : INT64_MAX);
  return r;
}

int64_t CommitLog::find_valid_after(int64_t off, int64_t window) const {
  auto valid_at = [&](int64_t at) {
    auto f = segments_.find(at);
    if (!f) return false;
    RecordCheck c = check_record(f->data() + (at - f->base()), f->end() - at, at, /*verify_crc=*/true);
    return c.kind == RecordKind::kRecord || (c.kind == RecordKind::kBlank && at != f->base());
  };
  // Records after `off` in its own segment: candidates are the magic code's bytes.
  if (auto f = segments_.find(off)) {
    const char magic[4] = {'\xDA', '\xA3', '\x20', '\xA7'};
    const char* begin = f->data() + (off - f->base()) + 1;
    const char* end = f->data() + f->size();
    if (window < end - begin) end = begin + window;
    for (const char* p = begin; p + 4 <= end;) {
      const void* hit = ::memmem(p, static_cast<size_t>(end - p), magic, 4);
      if (!hit) break;
      const char* h = static_cast<const char*>(hit);
      int64_t at = f->base() + (h - f->data()) - pos::kMagic;
      if (at > off && valid_at(at)) return at;
      p = h + 1;
    }
  }
  // Later segments: a valid first record means the log goes on.
  for (const auto& f : segments_.files()) {
    if (f->base() > off && valid_at(f->base())) return f->base();
  }
  return -1;
}

Status CommitLog::truncate(int64_t end) {
  if (Status st = segments_.truncate(end); !st) return st;
  std::lock_guard lock(put_mu_);
  closed_ = false;  // a store restarted after stop() appends again
  active_.reset();
  pending_pieces_.clear();  // beyond `end`: written by close() before any truncation
  pending_len_ = 0;
  dispatch_notes_.clear();  // notes of bytes beyond `end` would describe what replaces them
  append_pos_ = end;
  appended_pos_.store(end, std::memory_order_release);
  write_pos_.store(end, std::memory_order_release);
  flushed_.store(end, std::memory_order_release);
  return Status::ok();
}

void CommitLog::set_queue_offsets(std::unordered_map<std::string, int64_t> table) {
  std::lock_guard lock(put_mu_);
  queue_offsets_.clear();
  for (auto& [k, v] : table) queue_offsets_.emplace(k, v);
}

Status CommitLog::create_segment_unlocked(std::unique_lock<AdaptiveMutex>& lock, int64_t missing, int attempt) {
  if (attempt >= kMaxCreateAttempts)
    return Status::error(Code::kSystemBusy, "commit-log segment allocation is behind (segment at offset " +
                                                std::to_string(missing) + " still missing); retry");
  lock.unlock();
  bool created = false;
  auto made = segments_.get_or_create(missing, false, &created);
  if (created) sync_creates_.fetch_add(1, std::memory_order_relaxed);
  lock.lock();
  return made ? Status::ok() : made.status();
}

int64_t CommitLog::first_missing_segment(std::span<const AppendItem> items) const {
  int64_t w = append_pos_;
  std::shared_ptr<MappedFile> seg = active_ && active_->base() <= w && w < active_->end() ? active_ : segments_.find(w);
  if (!seg) return w;  // an empty log, or one ending exactly at its last file's end
  for (const AppendItem& item : items) {
    const int64_t size = item.size();
    if (w + size + kBlankSize <= seg->end()) {
      w += size;
      continue;
    }
    auto next = segments_.find(seg->end());
    if (!next || next->base() != seg->end()) return seg->end();
    seg = std::move(next);
    w = seg->base();
    if (w + size + kBlankSize > seg->end()) return -1;  // too large: append() reports it
    w += size;
  }
  return -1;
}

Status CommitLog::append(std::span<AppendItem> items, std::vector<AppendOutcome>* out, DeferWrite defer) {
  out->clear();
  out->reserve(items.size());
  // Queue keys missing from the items are built before taking the lock (the store's put
  // paths pass them: no allocation here then). Reserved up front: the views must not move.
  std::vector<std::string> keys;
  for (AppendItem& item : items) {
    if (item.queue_key.empty() && item.consumes_queue_offset) {
      if (keys.empty()) keys.reserve(items.size());
      keys.push_back(queue_key(item.topic, item.queue_id));
      item.queue_key = keys.back();
    }
  }
  bool rolled = false;
  // A segment the batch needs but that does not exist yet (the allocator is behind) is
  // created with the put lock released, then everything is re-checked: the lock is never
  // held across file creation (fallocate of up to a segment, fsyncs).
  Status st = [&]() -> Status {
    std::unique_lock lock(put_mu_);
    for (int attempt = 0;; ++attempt) {
      if (closed_) return Status::error(Code::kServiceNotAvailable, "message store is stopped");
      if (read_only())
        return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());
      if (disk_full()) {
        std::lock_guard rl(reason_mu_);
        return Status::error(Code::kServiceNotAvailable, disk_full_reason_);
      }
      const int64_t missing = first_missing_segment(items);
      if (missing < 0) break;
      if (Status made = create_segment_unlocked(lock, missing, attempt); !made) return made;
    }

    const int64_t start = append_pos_;
    int64_t w = start;
    call_notes_.clear();
    std::shared_ptr<MappedFile> seg =
        active_ && active_->base() <= w && w < active_->end() ? active_ : segments_.find(w);
    int64_t ts = std::max(now_ms(), last_store_ts_.load(std::memory_order_relaxed));
    // Queue offsets assigned in this call: the table slot (looked up once per queue and
    // call; a new queue's slot is inserted at 0, which reads the same as absent) and the
    // next offset, stored to the slot only on success.
    boost::container::small_vector<std::pair<int64_t*, int64_t>, 4> next_offsets;
    std::string_view last_key;
    size_t last_index = 0;

    // appendWithPwrite: the bytes for `seg` are built in a buffer from stage_from on and
    // written with one pwrite per segment before they are published (stage_), or left in
    // pending_ for the next flush to write and publish (deferred); else straight into the
    // mapping. Anything unpublished comes first in log order, so this append then defers too.
    size_t need = kBlankSize;
    for (const AppendItem& item : items) need += static_cast<size_t>(item.size());
    const bool pwrite_sized =
        append_with_pwrite_ && need - kBlankSize >= static_cast<size_t>(append_with_pwrite_min_bytes_);
    const bool deferred = start != write_pos_.load(std::memory_order_relaxed) ||
                          (defer == DeferWrite::kToFlush && append_with_pwrite_) ||
                          (defer == DeferWrite::kIfStaged && pwrite_sized);
    const bool staged = deferred || pwrite_sized;
    // What fail() restores: this call may add pieces or extend the last one.
    const size_t pieces_before = pending_pieces_.size();
    const size_t last_len_before = pending_pieces_.empty() ? 0 : pending_pieces_.back().len;
    if (deferred) {
      need += kBlankSize * items.size();  // a blank marker per segment the call may roll out of
      if (pending_.size() < pending_len_ + need) pending_.resize(std::max(pending_len_ + need, 2 * pending_.size()));
    } else if (staged && stage_.size() < need) {
      stage_.resize(need);
    }
    char* const buf = deferred ? pending_.data() : stage_.data();
    size_t piece_from = deferred ? pending_len_ : 0;  // where stage_from's byte sits in buf
    int64_t stage_from = w;
    auto place = [&](int64_t at) {
      return staged ? buf + piece_from + (at - stage_from) : seg->data() + (at - seg->base());
    };
    auto write_stage = [&](int64_t to) {
      if (!staged || to == stage_from) return Status::ok();
      const size_t len = static_cast<size_t>(to - stage_from);
      Status st;
      if (!deferred) {
        st = seg->write_at(stage_from - seg->base(), buf, len);
      } else if (PendingPiece* last = pending_pieces_.empty() ? nullptr : &pending_pieces_.back();
                 last && last->seg == seg && last->at + static_cast<int64_t>(last->len) == stage_from &&
                 last->from + last->len == piece_from) {
        last->len += len;  // continues the previous append's bytes: one pwrite for both
        piece_from += len;
      } else {
        pending_pieces_.push_back(PendingPiece{seg, stage_from, piece_from, len});
        piece_from += len;
      }
      stage_from = to;
      return st;
    };

    auto fail = [&](Status st) {
      if (deferred) {  // nothing was written: forget the pieces this call added
        pending_pieces_.resize(pieces_before);
        if (!pending_pieces_.empty()) pending_pieces_.back().len = last_len_before;
        return st;
      }
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

    // Small records are sealed after the next one is written, and always before their bytes
    // are staged out (record_codec.h, RecordWriter).
    RecordWriter writer;

    for (AppendItem& item : items) {
      const int32_t size = item.size();
      if (!seg || w + size + kBlankSize > seg->end()) {
        writer.seal_pending();
        int64_t next_base = seg ? seg->end() : w;
        // Exists: first_missing_segment() found every segment the batch needs, and files are
        // only removed from the front, far behind the write position.
        std::shared_ptr<MappedFile> next = segments_.find(next_base);
        if (!next || next->base() != next_base)
          return fail(Status::system("commit-log segment at offset " + std::to_string(next_base) + " vanished"));
        if (seg) {
          // End-of-segment marker: [remaining][BLANK_MAGIC]; readers jump to the next segment.
          char* p = place(w);
          put_be32(p, static_cast<uint32_t>(seg->end() - w));
          put_be32(p + 4, kBlankMagic);
          if (Status st = write_stage(w + kBlankSize); !st) return fail(std::move(st));
        }
        seg = std::move(next);
        w = seg->base();
        stage_from = w;
        rolled = true;
        if (w + size + kBlankSize > seg->end())
          return fail(Status::error(Code::kMessageIllegal, "record of " + std::to_string(size) +
                                                               " bytes does not fit in segment " + seg->path() +
                                                               " of " + std::to_string(seg->size()) + " bytes"));
      }
      int64_t qoff = 0;
      if (item.consumes_queue_offset) {
        const std::string_view key = item.queue_key;
        // A batch targets one queue: compare with the previous item's key before hashing.
        if (next_offsets.empty() || !same_text(key, last_key)) {
          auto t = queue_offsets_.find(key);
          if (t == queue_offsets_.end()) t = queue_offsets_.emplace(std::string(key), 0).first;
          auto it = std::find_if(next_offsets.begin(), next_offsets.end(),
                                 [&](const auto& e) { return e.first == &t->second; });
          if (it == next_offsets.end()) it = next_offsets.emplace(next_offsets.end(), &t->second, t->second);
          last_key = key;
          last_index = static_cast<size_t>(it - next_offsets.begin());
        }
        qoff = next_offsets[last_index].second++;
      }
      char* dst = place(w);
      if (item.plan) {
        writer.write(dst, *item.plan, qoff, w, ts);
        if (notes_enabled_) call_notes_.add(w, size, *item.plan, item.queue_id, qoff, ts);
      } else {
        char* rec = item.rec->bytes.data();
        finalize_record(rec, item.rec->tail_crc, item.rec->tail_shift, qoff, w, ts);
        std::memcpy(dst, rec, static_cast<size_t>(size));
      }
      out->push_back(AppendOutcome{w, size, qoff, ts});
      w += size;
    }
    writer.seal_pending();
    if (Status st = write_stage(w); !st) return fail(std::move(st));
    if (stage_.size() > kKeptStageBytes) std::string().swap(stage_);  // after an unusually large call
    for (auto& [slot, next] : next_offsets) *slot = next;
    active_ = seg;
    append_pos_ = w;
    appended_pos_.store(w, std::memory_order_release);
    last_store_ts_.store(ts, std::memory_order_release);
    dispatch_notes_.publish(call_notes_);
    if (deferred)
      pending_len_ = piece_from;
    else
      write_pos_.store(w, std::memory_order_release);
    return Status::ok();
  }();
  if (rolled && on_roll_) on_roll_();
  return st;
}

Result<int64_t> CommitLog::append_raw(int64_t at, std::string_view bytes) {
  bool rolled = false;
  Result<int64_t> res = [&]() -> Result<int64_t> {
    std::unique_lock lock(put_mu_);
    for (int attempt = 0;; ++attempt) {
      if (closed_) return Status::error(Code::kServiceNotAvailable, "message store is stopped");
      if (read_only())
        return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());
      if (at != append_pos_)
        return Status::invalid("append_raw at offset " + std::to_string(at) + " but the commit log ends at " +
                               std::to_string(append_pos_) + "; resend from there");
      if (append_pos_ != write_pos_.load(std::memory_order_relaxed))
        return Status::error(Code::kSystemBusy, "append_raw while local appends await their write; retry");
      const int64_t seg_size = segments_.file_size();
      // Pass 1: validate everything against the positions the bytes will occupy.
      struct Piece {
        size_t from;  // in `bytes`
        int64_t at;
        int32_t size;
        bool blank;
      };
      std::vector<Piece> pieces;
      std::vector<std::pair<std::string, int64_t>> next_offsets;
      int64_t last_ts = last_store_ts_.load(std::memory_order_relaxed);
      size_t i = 0;
      int64_t p = at;
      while (i < bytes.size()) {
        auto existing = segments_.find(p);
        int64_t seg_base = existing ? existing->base() : p / seg_size * seg_size;
        int64_t seg_end = existing ? existing->end() : seg_base + seg_size;
        int64_t left = static_cast<int64_t>(bytes.size() - i);
        const char* d = bytes.data() + i;
        if (left >= kBlankSize && get_be32(d + pos::kMagic) == kBlankMagic) {
          if (static_cast<int64_t>(get_be32(d)) != seg_end - p)
            return Status::invalid("append_raw: end-of-segment marker at offset " + std::to_string(p) + " says " +
                                   std::to_string(get_be32(d)) + " bytes remain but " + std::to_string(seg_end - p) +
                                   " do (segment sizes differ between master and slave?)");
          pieces.push_back(Piece{i, p, kBlankSize, true});
          i += kBlankSize;
          p = seg_end;
          continue;
        }
        RecordCheck c = check_record(d, std::min(left, seg_end - p), p, /*verify_crc=*/true);
        if (c.kind != RecordKind::kRecord)
          return Status::invalid(
              "append_raw: bytes at offset " + std::to_string(p) +
              " are not a whole valid record: " + (c.reason.empty() ? "end of data or zeros" : c.reason));
        if (p + c.size + kBlankSize > seg_end)
          return Status::invalid("append_raw: record at offset " + std::to_string(p) +
                                 " leaves no room for the end-of-segment marker (segment sizes differ?)");
        RecordSummary sum = summarize_record(d);
        if (!sum.properties_error.empty())
          return Status::invalid("append_raw: record at offset " + std::to_string(p) +
                                 " has malformed properties: " + sum.properties_error);
        if (consumes_queue_offset(sum.sys_flag)) {
          std::string key = queue_key(sum.topic, sum.queue_id);
          auto it =
              std::find_if(next_offsets.begin(), next_offsets.end(), [&](const auto& e) { return e.first == key; });
          if (it == next_offsets.end()) {
            next_offsets.emplace_back(std::move(key), sum.queue_offset + 1);
          } else {
            it->second = std::max(it->second, sum.queue_offset + 1);
          }
        }
        last_ts = std::max(last_ts, sum.store_timestamp_ms);
        pieces.push_back(Piece{i, p, c.size, false});
        i += static_cast<size_t>(c.size);
        p += c.size;
      }
      // A missing segment is created with the put lock released; then everything is
      // validated again (the lock is never held across file creation).
      int64_t missing = -1;
      for (const Piece& pc : pieces) {
        if (!segments_.find(pc.at)) {
          missing = pc.at / seg_size * seg_size;
          break;
        }
      }
      if (missing >= 0) {
        if (Status made = create_segment_unlocked(lock, missing, attempt); !made) return made;
        rolled = true;
        continue;
      }
      // Pass 2: copy.
      for (const Piece& pc : pieces) {
        auto seg = segments_.find(pc.at);
        std::memcpy(seg->data() + (pc.at - seg->base()), bytes.data() + pc.from, static_cast<size_t>(pc.size));
      }
      for (auto& [key, next] : next_offsets) {
        auto t = queue_offsets_.find(key);
        if (t == queue_offsets_.end()) t = queue_offsets_.emplace(key, 0).first;
        t->second = std::max(t->second, next);
      }
      append_pos_ = p;
      appended_pos_.store(p, std::memory_order_release);
      last_store_ts_.store(last_ts, std::memory_order_release);
      write_pos_.store(p, std::memory_order_release);
      return p;
    }
  }();
  if (rolled && on_roll_) on_roll_();
  return res;
}

Result<RawBytes> CommitLog::read_raw(int64_t from, int64_t max_bytes) const {
  RawBytes out;
  out.next_offset = from;
  const int64_t w = readable_end();
  if (from == w) return out;
  auto ref = locate(from);
  if (!ref) return ref.status();
  int64_t off = from;
  int64_t len = 0;
  while (off < w) {
    const char* p = ref->data + (off - from);
    RecordCheck c = check_record(p, ref->file->end() - off, off, /*verify_crc=*/false);
    if (c.kind == RecordKind::kBlank) {
      len += kBlankSize;
      out.next_offset = ref->file->end();
      break;
    }
    if (c.kind != RecordKind::kRecord)
      return Status::error(
          Code::kSystemError,
          "read_raw: " + (c.reason.empty() ? "no record at commit-log offset " + std::to_string(off) : c.reason));
    if (len > 0 && len + c.size > max_bytes) break;
    len += c.size;
    off += c.size;
    out.next_offset = off;
  }
  out.bytes.assign(ref->data, static_cast<size_t>(len));
  return out;
}

void CommitLog::set_disk_full(std::string reason) {
  std::lock_guard lock(reason_mu_);
  disk_full_reason_ = std::move(reason);
  disk_full_.store(true, std::memory_order_release);
}

void CommitLog::clear_disk_full() {
  disk_full_.store(false, std::memory_order_release);
}

void CommitLog::close() {
  {
    std::lock_guard lock(put_mu_);
    closed_ = true;
  }
  // Appends stage under the put lock and check closed_ first: everything staged is pending
  // now, and one round writes it (a write error turns the log read-only).
  (void)write_pending();
}

Status CommitLog::write_pending_locked() {
  if (read_only())  // nothing more reaches the file: the waiters fail
    return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());
  int64_t end = 0;
  {
    std::lock_guard lock(put_mu_);
    if (pending_pieces_.empty()) return Status::ok();
    writing_.swap(pending_);
    writing_pieces_.swap(pending_pieces_);
    pending_len_ = 0;
    end = append_pos_;  // the pieces cover [write_pos_, append_pos_) exactly
  }
  Status st;
  for (const PendingPiece& p : writing_pieces_) {
    st = p.seg->write_at(p.at - p.seg->base(), writing_.data() + p.from, p.len);
    if (!st) break;
  }
  writing_pieces_.clear();  // drops the segment references
  if (writing_.size() > kKeptStageBytes) std::string().swap(writing_);
  if (!st) {
    mark_read_only(st.message());  // the caller completes the waiters once it lets go of the lock
    return st;
  }
  write_pos_.store(end, std::memory_order_release);
  return Status::ok();
}

Status CommitLog::write_pending() {
  Status st;
  {
    std::lock_guard lock(write_mu_);
    st = write_pending_locked();
  }
  complete_written();
  request_write_if_pending();
  return st;
}

bool CommitLog::write_combined() {
  bool wrote = false;
  // Appenders store appended_pos_ and then try the lock; writers unlock and then load it.
  // The fences keep one of the two from missing the other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int round = 0; appended_pos() > write_pos() && !read_only(); ++round) {
    if (round == kCombineRounds) {
      request_write_if_pending();  // others keep staging: let the flush thread go on
      break;
    }
    std::unique_lock lock(write_mu_, std::try_to_lock);
    if (!lock) break;  // the holder sees these bytes when it lets go of the lock
    const int64_t before = write_pos();
    (void)write_pending_locked();
    lock.unlock();
    wrote = wrote || write_pos() != before;
    complete_written();
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return wrote;
}

void CommitLog::request_write_if_pending() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (appended_pos() > write_pos() && !read_only() && on_write_request_) on_write_request_();
}

void CommitLog::when_written(int64_t end, std::function<void(Status)> done) {
  {
    std::lock_guard lock(put_mu_);
    if (write_pos_.load(std::memory_order_acquire) < end && !read_only()) {
      write_waiters_.push_back(WriteWaiter{end, std::move(done)});
      return;
    }
  }
  if (write_pos() >= end) return done(Status::ok());
  done(Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason()));
}

void CommitLog::complete_written() {
  std::vector<WriteWaiter> ready;
  int64_t pos = 0;
  {
    std::lock_guard lock(put_mu_);
    if (write_waiters_.empty()) return;
    pos = write_pos_.load(std::memory_order_acquire);
    if (read_only()) {
      ready.swap(write_waiters_);
    } else {
      auto settled = std::stable_partition(write_waiters_.begin(), write_waiters_.end(),
                                           [pos](const WriteWaiter& w) { return w.end > pos; });
      std::move(settled, write_waiters_.end(), std::back_inserter(ready));
      write_waiters_.erase(settled, write_waiters_.end());
    }
  }
  for (WriteWaiter& w : ready) {
    if (w.end <= pos)
      w.done(Status::ok());
    else
      w.done(Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason()));
  }
}

Status CommitLog::flush() {
  std::lock_guard lock(flush_mu_);
  if (Status st = write_pending(); !st) return st;
  int64_t to = write_pos();
  int64_t from = flushed_.load(std::memory_order_acquire);
  if (to <= from) return Status::ok();
  if (read_only())
    return Status::error(Code::kServiceNotAvailable, "message store is read-only: " + read_only_reason());
  if (Status st = segments_.flush(from, to); !st) {
    set_read_only(st.message());
    return st;
  }
  flushed_.store(to, std::memory_order_release);
  return Status::ok();
}

void CommitLog::set_read_only(const std::string& reason) {
  mark_read_only(reason);
  complete_written();  // puts waiting for their write fail now: nothing more is written
}

void CommitLog::mark_read_only(const std::string& reason) {
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
  int64_t w = readable_end();
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

Result<RecordRef> CommitLog::locate_record(int64_t offset) const {
  auto ref = locate(offset);
  if (!ref) return ref.status();
  RecordCheck c = check_record(ref->data, ref->to_segment_end, offset, true);
  if (c.kind != RecordKind::kRecord || offset + c.size > readable_end()) {
    std::string why = c.kind == RecordKind::kCorrupt ? c.reason
                      : c.kind == RecordKind::kBlank
                          ? "commit-log offset " + std::to_string(offset) + " is an end-of-segment marker"
                          : "no record at commit-log offset " + std::to_string(offset);
    return Status::error(c.kind == RecordKind::kCorrupt ? Code::kSystemError : Code::kQueryNotFound, why);
  }
  ref->record_size = c.size;
  return ref;
}

Result<StoredMessage> CommitLog::read(int64_t offset) const {
  auto ref = locate_record(offset);
  if (!ref) return ref.status();
  return decode_record(ref->data);
}

}  // namespace mq::storage_mmap
