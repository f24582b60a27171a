// Dispatcher: the commit-log -> consume-queue indexing loop.
#include "dispatcher.h"

#include <algorithm>
#include <optional>
#include <string_view>

namespace mq::storage_mmap {

void Dispatcher::add_listener(ArrivalListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

namespace {

// The records were written by another core (or read from disk), and parsing one touches its
// head and its tail, the next head's address coming from this one's size: a chain of misses
// when taken one by one. Requesting every line some way ahead lets them arrive together.
constexpr int64_t kPrefetchAhead = 16 * 1024;
constexpr int64_t kCacheLine = 64;

// Arrival notices and dispatched() of one dispatch pass. Notices are gathered per run of
// records of one (topic, queue, tag hash): a listener told the run's last next-offset learns
// what a call per record would have told it (it wakes what waits below an offset, for a
// tag), with one call. They are told together every kPublishEvery records and at the end of
// what is available, right after the consume-queue units staged meanwhile are published
// (into each queue's tail, once per queue touched, not once per run: runs of single messages
// alternate between queues), and dispatched() moves only right after, so whoever sees it
// pass a record knows its unit is readable and the listeners have been told. The cut at
// kPublishEvery keeps a long backlog from holding pulls waiting or dispatched() still until
// all of it is dispatched.
class DispatchProgress {
 public:
  DispatchProgress(Dispatcher& dispatcher, const std::vector<ArrivalListener>& listeners)
      : dispatcher_(dispatcher), listeners_(listeners) {}

  // The record ending at `end` was dispatched; it added consume-queue unit next_offset - 1
  // when `topic` is set (else nothing to tell).
  Status record_done(int64_t end, std::optional<std::string_view> topic, QueueId queue_id, int64_t next_offset,
                     int64_t tag_hash) {
    if (topic && !listeners_.empty()) {
      Notice* last = runs_ == 0 ? nullptr : &notices_[runs_ - 1];
      if (!last || queue_id != last->queue_id || tag_hash != last->tag_hash || *topic != last->topic) {
        if (runs_ == notices_.size()) notices_.emplace_back();
        last = &notices_[runs_++];
        last->topic.assign(*topic);
        last->queue_id = queue_id;
        last->tag_hash = tag_hash;
      }
      last->next_offset = next_offset;
    }
    if (++records_ >= Dispatcher::kPublishEvery) return publish(end);
    return Status::ok();
  }

  // Publishes the staged consume-queue units, tells the listeners what is pending, then
  // publishes dispatched() = upto. On a write error nothing is told or published.
  Status publish(int64_t upto) {
    if (Status st = dispatcher_.commit_staged(); !st) return st;
    for (size_t i = 0; i < runs_; ++i) {
      const Notice& n = notices_[i];
      for (const auto& l : listeners_) l(n.topic, n.queue_id, QueueOffset(n.next_offset), n.tag_hash);
    }
    runs_ = 0;
    records_ = 0;
    dispatcher_.set_dispatched(upto);
    return Status::ok();
  }

 private:
  struct Notice {
    std::string topic;
    QueueId queue_id = 0;
    int64_t tag_hash = 0;
    int64_t next_offset = 0;
  };
  Dispatcher& dispatcher_;
  const std::vector<ArrivalListener>& listeners_;
  int records_ = 0;              // since the last publish
  std::vector<Notice> notices_;  // [0, runs_) pending; later entries kept for their strings
  size_t runs_ = 0;
};

}  // namespace

Result<uint64_t> Dispatcher::dispatch_available(bool notify_listeners) {
  std::vector<ArrivalListener> listeners;
  if (notify_listeners) {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
  }
  DispatchProgress progress(*this, listeners);
  if (const uint64_t g = queues_.generation(); g != cache_generation_) {
    // The store reloaded its queues (a restart): the old ones' unwritten units were never
    // claimed by a checkpoint, so recovery dispatches their records again.
    queue_cache_.clear();
    staged_queues_.clear();
    tail_queues_.clear();
    cache_generation_ = g;
  }
  uint64_t count = 0;
  int64_t off = dispatched();
  Status error;
  std::shared_ptr<MappedFile> segment;  // holds `off` while it is inside; kept mapped by this
  std::shared_ptr<ConsumeQueue> cq;     // the queue of the previous record, most often this one's
  std::string cq_topic;                 // its topic
  std::vector<std::shared_ptr<ConsumeQueue>>* topic_queues = nullptr;  // cq_topic's in queue_cache_
  int64_t prefetched = off;  // lines below this were requested ahead (kPrefetchAhead)
  // readable_end() per record: never index bytes that may not be on disk (it drops to the
  // flushed position when the log turns read-only) and take what is appended meanwhile.
  for (int64_t end; off < (end = log_.readable_end());) {
    RecordSummary s;
    int32_t size = 0;
    if (const ptrdiff_t n = note_at(off); n >= 0) {
      // The appender's note says what parsing would: the record need not be read.
      size = notes_.record_size(static_cast<size_t>(n));
      if (off + size > end) break;  // not readable yet (appends publish whole; defensive)
      s = notes_.summary(static_cast<size_t>(n));
    } else {
      if (!segment || off >= segment->end()) {
        auto ref = log_.locate(off);
        if (!ref) {
          error = ref.status();
          break;
        }
        segment = std::move(ref->file);
      }
      const char* data = segment->data() + (off - segment->base());
      // (From `off` on: past a record longer than the window, its body needs no lines.)
      prefetched = std::max(prefetched, off);
      for (const int64_t to = std::min({off + kPrefetchAhead, end, segment->end()}); prefetched < to;
           prefetched += kCacheLine)
        __builtin_prefetch(segment->data() + (prefetched - segment->base()));
      // Bytes below write_pos() were CRC-checked at recovery or written by this process.
      RecordCheck c = check_record(data, segment->end() - off, off, /*verify_crc=*/false, &s);
      if (c.kind == RecordKind::kBlank) {
        if (error = progress.publish(off); !error) break;
        off = segment->end();
        if (error = progress.publish(off); !error) break;
        continue;
      }
      if (c.kind != RecordKind::kRecord) {
        error =
            Status::system("dispatcher cannot parse " +
                           (c.reason.empty() ? "the record at commit-log offset " + std::to_string(off) : c.reason));
        break;
      }
      size = c.size;
    }
    bool arrived = false;
    if (consumes_queue_offset(s.sys_flag)) {
      if (!cq || cq->queue_id() != s.queue_id || cq_topic != s.topic) {
        if (!topic_queues || cq_topic != s.topic) {
          cq_topic.assign(s.topic);
          topic_queues = &queue_cache_[cq_topic];
        }
        cq = queue_of(*topic_queues, cq_topic, s.queue_id);
      }
      const int64_t before = cq->write_end();
      if (s.queue_offset > before && before > cq->min_offset()) {
        logger_->warn("consume queue gap topic={} queue={} max={} record_queue_offset={} commit_log_offset={}",
                      cq_topic, s.queue_id, before, s.queue_offset, off);
      }
      const bool was_staged = cq->has_staged();
      const bool had_tail = cq->has_tail();
      if (Status st = cq->put_unit(s.queue_offset, CqUnit{off, size, s.tag_hash}); !st) {
        error = st;
        break;
      }
      if (!was_staged && cq->has_staged()) staged_queues_.push_back(cq);
      if (!had_tail && cq->has_tail()) tail_queues_.push_back(cq);
      arrived = s.queue_offset >= before;
    }
    if (index_) {
      if (Status st = index_->index_record(off, size, s); !st) {
        // The key index is secondary: consume queues go on; the index is rebuilt at the
        // next start (marked here, since dispatched() moves past the record).
        if (!index_failing_) {
          logger_->error("key index not updated at commit-log offset {}: {}", off, st.message());
          if (Status marked = index_->mark_for_rebuild(st.message()); !marked)
            logger_->error("key index not marked for rebuild either: {}", marked.message());
        }
        index_failing_ = true;
      } else {
        index_failing_ = false;
      }
    }
    off += size;
    ++count;
    if (error = progress.record_done(off, arrived ? std::optional(s.topic) : std::nullopt, s.queue_id,
                                     s.queue_offset + 1, s.tag_hash);
        !error)
      break;
  }
  if (Status st = progress.publish(off); !st && error) error = st;
  { std::lock_guard lock(progress_mu_); }  // pairs with the predicate check in wait_dispatched()
  progress_cv_.notify_all();
  if (!error.is_ok()) return error;
  return count;
}

std::shared_ptr<ConsumeQueue> Dispatcher::queue_of(std::vector<std::shared_ptr<ConsumeQueue>>& topic_queues,
                                                   const std::string& topic, QueueId queue_id) {
  if (queue_id < 0 || queue_id >= kCachedQueueIds) return queues_.find_or_create(topic, queue_id);
  const auto at = static_cast<size_t>(queue_id);
  if (topic_queues.size() <= at) topic_queues.resize(at + 1);
  if (!topic_queues[at]) topic_queues[at] = queues_.find_or_create(topic, queue_id);
  return topic_queues[at];
}

ptrdiff_t Dispatcher::note_at(int64_t off) {
  for (;;) {
    while (next_note_ < notes_.size() && notes_.offset(next_note_) < off) ++next_note_;
    if (next_note_ < notes_.size()) return notes_.offset(next_note_) == off ? static_cast<ptrdiff_t>(next_note_) : -1;
    notes_.clear();
    next_note_ = 0;
    if (!log_.dispatch_notes().take(notes_)) return -1;
  }
}

Status Dispatcher::commit_staged() {
  while (!staged_queues_.empty()) {
    ConsumeQueue& cq = *staged_queues_.back();
    const bool had_tail = cq.has_tail();
    if (Status st = cq.commit(); !st) return st;
    if (!had_tail && cq.has_tail()) tail_queues_.push_back(staged_queues_.back());
    staged_queues_.pop_back();
  }
  if (std::chrono::steady_clock::now() - last_write_out_ >= write_out_every_) return write_out_tails();
  return Status::ok();
}

Status Dispatcher::write_out_tails() {
  // (Set first: after a failed write the next attempt waits a whole period.)
  last_write_out_ = std::chrono::steady_clock::now();
  // Every record below dispatched() had its unit published before dispatched() moved.
  const int64_t upto = dispatched();
  while (!tail_queues_.empty()) {
    if (Status st = tail_queues_.back()->write_out(/*trim=*/true); !st) return st;
    tail_queues_.pop_back();
  }
  written_through_.store(upto, std::memory_order_release);
  return Status::ok();
}

void Dispatcher::start() {
  stopping_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(idle_mu_);
    stopping_.store(true, std::memory_order_release);
  }
  idle_cv_.notify_all();
  thread_.join();
  // Notes taken and not used may describe bytes a truncation replaces before the restart.
  notes_.clear();
  next_note_ = 0;
}

void Dispatcher::run() {
  bool failing = false;
  while (true) {
    uint32_t seen = wake_seq_.load(std::memory_order_acquire);
    bool stopping = stopping_.load(std::memory_order_acquire);
    auto r = dispatch_available(true);
    if (!r) {
      if (!failing) logger_->error("dispatch stopped at commit-log offset {}: {}", dispatched(), r.status().message());
      failing = true;
      if (stopping) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    failing = false;
    if (stopping) return;  // the final pass after stop() was requested has run
    if (dispatched() < log_.readable_end()) continue;
    std::unique_lock lock(idle_mu_);
    idle_cv_.wait_for(lock, kIdlePoll, [&] {
      return stopping_.load(std::memory_order_acquire) || wake_seq_.load(std::memory_order_acquire) != seen;
    });
  }
}

bool Dispatcher::wait_dispatched(int64_t offset, std::chrono::milliseconds timeout) {
  std::unique_lock lock(progress_mu_);
  return progress_cv_.wait_for(lock, timeout, [&] { return dispatched() >= offset; });
}

}  // namespace mq::storage_mmap
