// ColdLogReader: reads of the commit log below its page-cache window (commitLogPageCacheMiB),
// served from a small cache of chunks read with O_DIRECT into buffers it reuses, with one
// read-ahead thread that keeps the chunks after a sequential reader's loaded.
//
// Why: bytes that far behind were dropped from the page cache on purpose; faulting them back
// in through the mapping fills fresh page-cache pages, and on a VM that reports freed memory
// to its host each first touch of such a page is a host fault (the catch-up of 10 GB read
// 0.5 GB/s at 1.4 CPU-seconds per GB that way, against 1.1-1.2 GB/s at 0.1-0.15 with O_DIRECT
// into reused buffers). Reused buffers stay backed, and nothing enters the page cache.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "mapped_file.h"

namespace mq::storage_mmap {

// Ownership: owns the chunk buffers (allocated on first use, kept until destruction) and the
// read-ahead thread. Threading: Cursor objects are used by one thread each, any number at
// once; one mutex guards the slot table, never held across a disk read.
//
// Staleness: a chunk is loaded only when it lies wholly below the caller's `limit` (bytes
// flushed, so what the disk holds is what was written), and is tagged with the caller's
// truncation generation: a lookup under another generation never sees it. So a truncation of
// the log (replication) and the records written again after it are never served from a chunk
// read before it.
class ColdLogReader {
 public:
  using FindSegment = std::function<std::shared_ptr<MappedFile>(int64_t offset)>;
  struct Options {
    int64_t cache_bytes = int64_t{64} << 20;  // commitLogColdReadMiB: at least two chunks
    // One disk read; a multiple of MappedFile::kDirectAlign. 2 MiB chunks 8 ahead read the
    // 10 GB catch-up at 0.88-1.09 M msgs/s of 1 KiB here, 1 MiB ones at 0.66-0.92 M.
    int64_t chunk_bytes = int64_t{2} << 20;
    int read_ahead_chunks = 8;  // kept loaded after the chunk a reader moved to
  };
  struct Stats {
    uint64_t chunks_read = 0;        // chunks loaded from the disk (by readers and read-ahead)
    uint64_t chunks_read_ahead = 0;  // of those, by the read-ahead thread
    uint64_t bytes_served = 0;       // record bytes handed to readers
    uint64_t fell_back = 0;          // reads left to the mapping (no free slot, read error)
  };

  ColdLogReader(Options options, FindSegment find_segment, std::shared_ptr<spdlog::logger> logger);
  ~ColdLogReader();
  ColdLogReader(const ColdLogReader&) = delete;
  ColdLogReader& operator=(const ColdLogReader&) = delete;

  // False once the file system refused O_DIRECT: every read then goes through the mapping.
  bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }
  Stats stats() const;

  // One reader's pass over records (one get call): keeps the chunks it reads from pinned
  // until it moves on or ends, so records inside one chunk take no lock.
  class Cursor {
   public:
    explicit Cursor(ColdLogReader& reader) : reader_(reader) {}
    ~Cursor();
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    // The `size` bytes at commit-log `offset`, valid until the next call or the cursor's end;
    // nullptr when they are not served from here (not wholly below `limit`, no free slot, a
    // read error): the caller reads them through the mapping.
    const char* bytes(int64_t offset, int32_t size, int64_t limit, uint64_t generation);

   private:
    // The pinned slot holding `offset` (loading or reading it ahead as needed), or -1.
    int slot_for(int64_t offset, int64_t limit, uint64_t generation);
    // Whether pinned slot `s` (or -1) holds `offset` under `generation`.
    bool holds(int s, int64_t offset, uint64_t generation) const;
    void release(int* slot);

    ColdLogReader& reader_;
    int current_ = -1;    // pinned slot the last record came from
    int next_ = -1;       // pinned slot after it, for a record spanning two chunks
    std::string joined_;  // a record spanning two chunks, copied together
  };

 private:
  struct Slot {
    int64_t start = -1;  // commit-log offset of the chunk's first byte; -1: empty
    int64_t len = 0;
    uint64_t generation = 0;
    bool loading = false;
    int pins = 0;
    uint64_t last_use = 0;
    char* buf = nullptr;  // chunk_bytes, aligned; allocated on the slot's first load
  };
  struct ChunkPlace {
    std::shared_ptr<MappedFile> segment;
    int64_t start = 0;  // commit-log offset
    int64_t len = 0;
  };
  // The chunk holding `offset`: chunks start at multiples of chunk_bytes within a segment.
  bool place(int64_t offset, ChunkPlace* out) const;
  // A pinned slot holding `chunk` under `generation`, loading it on this thread if no slot
  // has it; -1 when no slot is free or the read failed.
  int acquire(const ChunkPlace& chunk, uint64_t generation);
  // Under mu_: the slot that holds `start` under `generation` (or is loading it), or -1.
  int find_locked(int64_t start, uint64_t generation) const;
  // Under mu_: an unpinned slot to load into (an empty one, else the least recently used), or -1.
  int victim_locked() const;
  // Under mu_: makes unpinned slot `s` the one loading `chunk` under `generation`.
  void claim_locked(int s, const ChunkPlace& chunk, uint64_t generation);
  // Reads the chunk into slot `s` (claimed by the caller, loading=true) without the lock;
  // publishes it (or frees the slot on failure) and wakes waiters. True when loaded.
  bool load(int s, const ChunkPlace& chunk, bool ahead);
  void unpin(int s);
  // Asks the read-ahead thread for the chunks after `chunk` not yet cached.
  void read_ahead_after(const ChunkPlace& chunk, int64_t limit, uint64_t generation);
  void run_read_ahead();

  const Options options_;
  const FindSegment find_segment_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<bool> enabled_{true};

  mutable std::mutex mu_;              // guards everything below
  std::condition_variable loaded_cv_;  // a slot finished loading
  std::condition_variable ahead_cv_;   // read-ahead work or stop
  std::vector<Slot> slots_;
  std::unordered_map<int64_t, int> by_start_;  // chunk start -> slot (the newest generation)
  uint64_t clock_ = 0;
  struct AheadRequest {
    int64_t start;
    int64_t limit;
    uint64_t generation;
    bool operator<(const AheadRequest& o) const { return start < o.start; }
  };
  std::set<AheadRequest> ahead_;  // chunks the read-ahead thread is asked for, lowest first
  bool stopping_ = false;
  std::atomic<uint64_t> chunks_read_{0};
  std::atomic<uint64_t> chunks_read_ahead_{0};
  std::atomic<uint64_t> bytes_served_{0};
  std::atomic<uint64_t> fell_back_{0};
  std::thread ahead_thread_;
};

}  // namespace mq::storage_mmap
