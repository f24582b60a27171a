// Dispatcher: the commit-log -> consume-queue indexing loop.
#include "dispatcher.h"

namespace mq::storage_mmap {

void Dispatcher::add_listener(ArrivalListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

Result<uint64_t> Dispatcher::dispatch_available(bool notify_listeners) {
  std::vector<ArrivalListener> listeners;
  if (notify_listeners) {
    std::lock_guard lock(listeners_mu_);
    listeners = listeners_;
  }
  uint64_t count = 0;
  int64_t off = dispatched();
  const int64_t end = log_.readable_end();  // never index bytes that may not be on disk
  Status error;
  while (off < end) {
    auto ref = log_.locate(off);
    if (!ref) {
      error = ref.status();
      break;
    }
    // Bytes below write_pos() were CRC-checked at recovery or written by this process.
    RecordCheck c = check_record(ref->data, ref->to_segment_end, off, /*verify_crc=*/false);
    if (c.kind == RecordKind::kBlank) {
      off = ref->file->end();
      set_dispatched(off);
      continue;
    }
    if (c.kind != RecordKind::kRecord) {
      error = Status::system("dispatcher cannot parse " +
                             (c.reason.empty() ? "the record at commit-log offset " + std::to_string(off) : c.reason));
      break;
    }
    RecordSummary s = summarize_record(ref->data);
    if (consumes_queue_offset(s.sys_flag)) {
      std::string topic(s.topic);
      auto cq = queues_.find_or_create(topic, s.queue_id);
      int64_t before = cq->max_offset();
      if (s.queue_offset > before && before > cq->min_offset()) {
        logger_->warn("consume queue gap topic={} queue={} max={} record_queue_offset={} commit_log_offset={}", topic,
                      s.queue_id, before, s.queue_offset, off);
      }
      if (Status st = cq->put_unit(s.queue_offset, CqUnit{off, c.size, s.tag_hash}); !st) {
        error = st;
        break;
      }
      if (s.queue_offset >= before) {
        for (const auto& l : listeners) l(topic, s.queue_id, QueueOffset(s.queue_offset + 1), s.tag_hash);
      }
    }
    if (index_) {
      if (Status st = index_->index_record(off, c.size, s); !st) {
        // The key index is secondary: consume queues go on; the index is rebuilt on start.
        if (!index_failing_) logger_->error("key index not updated at commit-log offset {}: {}", off, st.message());
        index_failing_ = true;
      } else {
        index_failing_ = false;
      }
    }
    off += c.size;
    ++count;
    set_dispatched(off);
  }
  { std::lock_guard lock(progress_mu_); }  // pairs with the predicate check in wait_dispatched()
  progress_cv_.notify_all();
  if (!error.is_ok()) return error;
  return count;
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
