// ColdLogReader: the chunk table, loading with O_DIRECT, cursors and the read-ahead thread.
#include "cold_log_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace mq::storage_mmap {

ColdLogReader::ColdLogReader(Options options, FindSegment find_segment, std::shared_ptr<spdlog::logger> logger)
    : options_(options), find_segment_(std::move(find_segment)), logger_(std::move(logger)) {
  const auto count = static_cast<size_t>(std::max<int64_t>(2, options_.cache_bytes / options_.chunk_bytes));
  slots_.resize(count);
  ahead_thread_ = std::thread([this] { run_read_ahead(); });
}

ColdLogReader::~ColdLogReader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ahead_cv_.notify_all();
  ahead_thread_.join();
  for (Slot& s : slots_) std::free(s.buf);
}

ColdLogReader::Stats ColdLogReader::stats() const {
  Stats s;
  s.chunks_read = chunks_read_.load(std::memory_order_relaxed);
  s.chunks_read_ahead = chunks_read_ahead_.load(std::memory_order_relaxed);
  s.bytes_served = bytes_served_.load(std::memory_order_relaxed);
  s.fell_back = fell_back_.load(std::memory_order_relaxed);
  return s;
}

bool ColdLogReader::place(int64_t offset, ChunkPlace* out) const {
  auto seg = find_segment_(offset);
  if (!seg || offset < seg->base() || offset >= seg->end()) return false;
  out->start = seg->base() + (offset - seg->base()) / options_.chunk_bytes * options_.chunk_bytes;
  out->len = std::min(options_.chunk_bytes, seg->end() - out->start);
  out->segment = std::move(seg);
  return true;
}

int ColdLogReader::find_locked(int64_t start, uint64_t generation) const {
  auto it = by_start_.find(start);
  if (it == by_start_.end()) return -1;
  const Slot& s = slots_[static_cast<size_t>(it->second)];
  return s.start == start && s.generation == generation ? it->second : -1;
}

int ColdLogReader::victim_locked() const {
  int best = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.pins > 0 || s.loading) continue;
    if (s.start < 0) return static_cast<int>(i);
    if (best < 0 || s.last_use < slots_[static_cast<size_t>(best)].last_use) best = static_cast<int>(i);
  }
  return best;
}

int ColdLogReader::acquire(const ChunkPlace& chunk, uint64_t generation) {
  std::unique_lock lock(mu_);
  if (int s = find_locked(chunk.start, generation); s >= 0) {
    Slot& slot = slots_[static_cast<size_t>(s)];
    ++slot.pins;
    loaded_cv_.wait(lock, [&] { return !slot.loading; });
    if (slot.start != chunk.start || slot.generation != generation) {  // its load failed
      --slot.pins;
      return -1;
    }
    slot.last_use = ++clock_;
    return s;
  }
  const int s = victim_locked();
  if (s < 0) {
    fell_back_.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  claim_locked(s, chunk, generation);
  ++slots_[static_cast<size_t>(s)].pins;
  lock.unlock();
  if (load(s, chunk, /*ahead=*/false)) return s;
  unpin(s);
  return -1;
}

void ColdLogReader::claim_locked(int s, const ChunkPlace& chunk, uint64_t generation) {
  Slot& slot = slots_[static_cast<size_t>(s)];
  if (auto it = by_start_.find(slot.start); it != by_start_.end() && it->second == s) by_start_.erase(it);
  slot.start = chunk.start;
  slot.len = chunk.len;
  slot.generation = generation;
  slot.loading = true;
  slot.last_use = ++clock_;
  by_start_[chunk.start] = s;
}

bool ColdLogReader::load(int s, const ChunkPlace& chunk, bool ahead) {
  Slot& slot = slots_[static_cast<size_t>(s)];
  // The claimed slot's buffer is this thread's until loading turns false.
  if (!slot.buf) {
    slot.buf =
        static_cast<char*>(std::aligned_alloc(MappedFile::kDirectAlign, static_cast<size_t>(options_.chunk_bytes)));
  }
  Result<int64_t> got = Status::error(Code::kSystemError, "out of memory for a cold-read buffer");
  if (slot.buf) {
    const int64_t aligned =
        (chunk.len + MappedFile::kDirectAlign - 1) / MappedFile::kDirectAlign * MappedFile::kDirectAlign;
    got = chunk.segment->read_direct(chunk.start - chunk.segment->base(), slot.buf, aligned);
  }
  const bool ok = got && *got >= chunk.len;
  {
    std::lock_guard lock(mu_);
    if (!ok) {
      if (auto it = by_start_.find(slot.start); it != by_start_.end() && it->second == s) by_start_.erase(it);
      slot.start = -1;
    }
    slot.loading = false;
  }
  loaded_cv_.notify_all();
  if (ok) {
    chunks_read_.fetch_add(1, std::memory_order_relaxed);
    if (ahead) chunks_read_ahead_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  fell_back_.fetch_add(1, std::memory_order_relaxed);
  if (!got && got.status().code() == Code::kRequestCodeNotSupported) {
    if (enabled_.exchange(false))
      logger_->info("commit-log reads below the page-cache window go through the mapping: {}", got.status().message());
  } else {
    logger_->warn("cold read of commit-log bytes [{}, {}) failed, read through the mapping instead: {}", chunk.start,
                  chunk.start + chunk.len,
                  got ? "short read of " + std::to_string(*got) + " bytes" : got.status().message());
  }
  return false;
}

void ColdLogReader::unpin(int s) {
  std::lock_guard lock(mu_);
  --slots_[static_cast<size_t>(s)].pins;
}

void ColdLogReader::read_ahead_after(const ChunkPlace& chunk, int64_t limit, uint64_t generation) {
  const int64_t next = chunk.start + chunk.len;
  if (next >= limit) return;
  {
    std::lock_guard lock(mu_);
    // Cheap test first: the next chunk and the last one wanted (by plain arithmetic, right
    // within a segment) are there or loading: nothing to ask for.
    const int64_t last = next + (options_.read_ahead_chunks - 1) * options_.chunk_bytes;
    if (find_locked(next, generation) >= 0 &&
        (last + options_.chunk_bytes > limit || find_locked(last, generation) >= 0))
      return;
    ahead_.insert(AheadRequest{next, limit, generation});
  }
  ahead_cv_.notify_one();
}

void ColdLogReader::run_read_ahead() {
  std::unique_lock lock(mu_);
  while (true) {
    ahead_cv_.wait(lock, [&] { return stopping_ || !ahead_.empty(); });
    if (stopping_) return;
    const AheadRequest req = *ahead_.begin();
    ahead_.erase(ahead_.begin());
    lock.unlock();
    int64_t start = req.start;
    for (int i = 0; i < options_.read_ahead_chunks; ++i) {
      ChunkPlace chunk;
      if (!enabled() || !place(start, &chunk) || chunk.start + chunk.len > req.limit) break;
      start = chunk.start + chunk.len;
      lock.lock();
      if (stopping_) return;
      if (find_locked(chunk.start, req.generation) >= 0) {
        lock.unlock();
        continue;
      }
      const int s = victim_locked();
      if (s < 0) {
        lock.unlock();
        break;
      }
      claim_locked(s, chunk, req.generation);
      lock.unlock();
      if (!load(s, chunk, /*ahead=*/true)) break;
    }
    lock.lock();
  }
}

// ---- Cursor ----

ColdLogReader::Cursor::~Cursor() {
  release(&current_);
  release(&next_);
}

void ColdLogReader::Cursor::release(int* slot) {
  if (*slot >= 0) reader_.unpin(*slot);
  *slot = -1;
}

bool ColdLogReader::Cursor::holds(int s, int64_t offset, uint64_t generation) const {
  if (s < 0) return false;
  // A pinned slot's start, len, generation and bytes do not change: read without the lock.
  const Slot& slot = reader_.slots_[static_cast<size_t>(s)];
  return slot.generation == generation && offset >= slot.start && offset < slot.start + slot.len;
}

int ColdLogReader::Cursor::slot_for(int64_t offset, int64_t limit, uint64_t generation) {
  if (holds(current_, offset, generation)) return current_;
  if (holds(next_, offset, generation)) {
    release(&current_);
    std::swap(current_, next_);
    reader_.read_ahead_after(ChunkPlace{nullptr, reader_.slots_[static_cast<size_t>(current_)].start,
                                        reader_.slots_[static_cast<size_t>(current_)].len},
                             limit, generation);
    return current_;
  }
  ChunkPlace chunk;
  if (!reader_.place(offset, &chunk) || chunk.start + chunk.len > limit) return -1;
  const int s = reader_.acquire(chunk, generation);
  if (s < 0) return -1;
  release(&current_);
  release(&next_);
  current_ = s;
  reader_.read_ahead_after(chunk, limit, generation);
  return s;
}

const char* ColdLogReader::Cursor::bytes(int64_t offset, int32_t size, int64_t limit, uint64_t generation) {
  if (!reader_.enabled() || size <= 0 || offset + size > limit) return nullptr;
  const int s = slot_for(offset, limit, generation);
  if (s < 0) return nullptr;
  const Slot& first = reader_.slots_[static_cast<size_t>(s)];
  const int64_t in = offset - first.start;
  if (in + size <= first.len) {
    reader_.bytes_served_.fetch_add(static_cast<uint64_t>(size), std::memory_order_relaxed);
    return first.buf + in;
  }
  // The record runs into the next chunk of its segment (records never cross segments).
  const int64_t next_start = first.start + first.len;
  const int64_t rest = offset + size - next_start;
  if (rest > reader_.options_.chunk_bytes || next_start + rest > limit) return nullptr;  // bigger than a chunk
  if (!holds(next_, next_start, generation)) {
    release(&next_);
    ChunkPlace chunk;
    if (!reader_.place(next_start, &chunk) || chunk.start != next_start || chunk.start + chunk.len > limit)
      return nullptr;
    next_ = reader_.acquire(chunk, generation);
    if (next_ < 0) return nullptr;
  }
  const Slot& second = reader_.slots_[static_cast<size_t>(next_)];
  if (rest > second.len) return nullptr;
  joined_.assign(first.buf + in, static_cast<size_t>(first.len - in));
  joined_.append(second.buf, static_cast<size_t>(rest));
  reader_.bytes_served_.fetch_add(static_cast<uint64_t>(size), std::memory_order_relaxed);
  return joined_.data();
}

}  // namespace mq::storage_mmap
