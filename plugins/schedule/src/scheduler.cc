// The scheduler thread: delay levels, timer log, send-back and cancel (see the header).
#include "scheduler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>

#include "atomic_file.h"
#include "message_rewrite.h"
#include "mq/transaction_service.h"

namespace mq::schedule {
namespace {

constexpr size_t kLevelWindow = 256;            // messages read ahead per level
constexpr int64_t kLevelWindowBytes = 4 << 20;  // and at most this many body bytes (one more message)
constexpr size_t kMaxInflight = 2048;           // delivery puts in flight at once
constexpr int kIndexBudget = 8192;              // timer-topic messages indexed per loop turn
constexpr int64_t kLookaheadMs = 60000;         // timer slots loaded this far ahead of now
constexpr int64_t kMaxWaitMs = 100;             // the loop re-reads the clock at least this often
constexpr int64_t kRetryMs = 100;               // a failed delivery put is retried after this
constexpr int64_t kStopDrainMs = 5000;          // stop() waits this long for puts in flight
constexpr int64_t kLogEveryMs = 5000;           // repeated errors are logged at most this often

bool parse_i64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status not_pending(const std::string& topic, const std::string& msg_id, const std::string& why) {
  return Status(Code::kQueryNotFound, "no message with id " + msg_id + " is pending for topic '" + topic + "': " + why);
}

}  // namespace

Clock system_clock_ms() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

// ---- ScheduleHook ----

ScheduleHook::ScheduleHook(std::vector<int64_t> level_delay_ms, int64_t timer_max_delay_ms, Clock clock)
    : level_delay_ms_(std::move(level_delay_ms)), timer_max_delay_ms_(timer_max_delay_ms), clock_(std::move(clock)) {}

Status ScheduleHook::before_store(StoredMessage& msg) {
  // A transactional half (rewritten by the transaction hook, or to be) is not scheduled here:
  // plugin order in plugins= must not matter. Its commit copy is scheduled when committed.
  if (msg.property(prop::kTransactionPrepared) == "true" || msg.topic == kTransactionHalfTopic) return Status::ok();
  return rewrite_for_schedule(msg, level_delay_ms_, timer_max_delay_ms_, clock_());
}

// ---- Inbox ----

void Scheduler::Inbox::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu);
    tasks.push_back(std::move(task));
  }
  cv.notify_one();
}

bool Scheduler::Inbox::post_request(std::function<void()> task) {
  {
    std::lock_guard lock(mu);
    if (!accepting) return false;
    tasks.push_back(std::move(task));
  }
  cv.notify_one();
  return true;
}

void Scheduler::Inbox::poke() {
  if (poked.exchange(true)) return;  // a wake-up is already pending: keep the put path cheap
  { std::lock_guard lock(mu); }      // orders the flag with a waiter's predicate check
  cv.notify_one();
}

// ---- Scheduler ----

Scheduler::Scheduler(ScheduleOptions options, std::string store_root, std::shared_ptr<MessageStore> store,
                     std::shared_ptr<BrokerContext> context, std::shared_ptr<spdlog::logger> log, Clock clock,
                     std::shared_ptr<PutPipeline> pipeline)
    : options_(std::move(options)),
      store_root_(std::move(store_root)),
      store_(std::move(store)),
      context_(std::move(context)),
      log_(std::move(log)),
      clock_(clock ? std::move(clock) : system_clock_ms()),
      pipeline_(std::move(pipeline)),
      files_(store_root_ + "/timer") {}

Scheduler::~Scheduler() {
  stop();
}

int64_t Scheduler::steady_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status Scheduler::start() {
  if (started_) return Status::ok();
  if (options_.is_slave) {
    log_->info("slave broker: delayed messages are delivered by the master; this broker only keeps their copies");
    return Status::ok();
  }
  if (Status st = files_.open(); !st) return st;
  const std::string offsets_path = store_root_ + "/config/delayOffset.json";
  auto text = read_whole_file(offsets_path);
  if (!text) return text.status();
  std::map<int32_t, int64_t> table;
  if (text->has_value()) {
    auto decoded = decode_offset_table(**text);
    if (!decoded)
      return Status::system("[schedule] " + offsets_path + " is not valid (" + decoded.status().message() +
                            "); restore it from a backup or delete it to deliver every level from offset 0");
    table = std::move(decoded).value();
  }
  levels_.clear();
  for (size_t i = 0; i < options_.level_delay_ms.size(); ++i) {
    Level level;
    level.level = static_cast<int32_t>(i + 1);
    level.delay_ms = options_.level_delay_ms[i];
    if (auto it = table.find(level.level); it != table.end()) level.read_next = std::max<int64_t>(0, it->second);
    levels_.push_back(std::move(level));
  }
  for (const auto& [level, offset] : table)
    if (level < 1 || level > static_cast<int32_t>(levels_.size()))
      log_->warn("{} has an offset for level {} but messageDelayLevel defines {} levels; that queue is not delivered",
                 offsets_path, level, levels_.size());
  auto cancels = files_.read_level_cancels();
  if (!cancels) return cancels.status();
  level_cancels_ = std::move(cancels).value();
  const std::string checkpoint_path = store_root_ + "/config/timerCheckpoint.json";
  auto checkpoint = read_whole_file(checkpoint_path);
  if (!checkpoint) return checkpoint.status();
  if (checkpoint->has_value()) {
    auto v = json_int_field(**checkpoint, "timerQueueOffset");
    if (!v)
      return Status::system("[schedule] " + checkpoint_path + " is not valid (" + v.status().message() +
                            "); delete it to re-index the timer topic from its start");
    if (!v->has_value() || **v < 0)
      return Status::system("[schedule] " + checkpoint_path +
                            " has no valid timerQueueOffset; delete it to re-index the timer topic from its start");
    timer_queue_offset_ = **v;
  }
  {
    std::lock_guard lock(stats_mu_);
    for (const Level& l : levels_) offsets_snapshot_[l.level] = l.committed();
    stats_.timer_queue_offset = timer_queue_offset_;
  }
  std::weak_ptr<Inbox> weak = inbox_;
  store_->add_arrival_listener([weak](const std::string& topic, QueueId, QueueOffset, int64_t) {
    if (topic != kTimerTopic && topic != kScheduleTopic) return;
    if (auto inbox = weak.lock()) inbox->poke();
  });
  log_->info("schedule started: {} delay levels, timer topic indexed up to offset {}, {} timer slot files",
             levels_.size(), timer_queue_offset_, files_.slots().size());
  last_persist_ms_ = steady_ms();
  started_ = true;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Scheduler::stop() {
  if (!started_) return;
  {
    std::lock_guard lock(inbox_->mu);
    inbox_->accepting = false;
  }
  stop_requested_ = true;
  inbox_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

void Scheduler::send_back(ConsumerSendBack request, Reply<Status> reply) {
  if (options_.is_slave)
    return reply(Status(Code::kSlaveNotAvailable, "this broker is a slave; send the message back to the master"));
  auto shared = std::make_shared<Reply<Status>>(std::move(reply));
  bool posted = inbox_->post_request(
      [this, request = std::move(request), shared]() mutable { do_send_back(request, std::move(*shared)); });
  if (!posted) (*shared)(Status(Code::kServiceNotAvailable, "schedule plugin is stopping; retry the send-back later"));
}

void Scheduler::cancel(std::string topic, std::string msg_id, Reply<Status> reply) {
  if (options_.is_slave)
    return reply(Status(Code::kSlaveNotAvailable, "this broker is a slave; cancel the message on the master"));
  auto shared = std::make_shared<Reply<Status>>(std::move(reply));
  bool posted = inbox_->post_request([this, topic = std::move(topic), msg_id = std::move(msg_id), shared]() mutable {
    do_cancel(topic, msg_id, std::move(*shared), store_->stats().max_commit_log_offset.value(), 0);
  });
  if (!posted) (*shared)(Status(Code::kServiceNotAvailable, "schedule plugin is stopping; retry the cancel later"));
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

std::map<int32_t, int64_t> Scheduler::level_offsets() const {
  std::lock_guard lock(stats_mu_);
  return offsets_snapshot_;
}

void Scheduler::run_tasks(std::deque<std::function<void()>>& tasks) {
  while (!tasks.empty()) {
    auto task = std::move(tasks.front());
    tasks.pop_front();
    task();
  }
}

void Scheduler::run() {
  std::deque<std::function<void()>> tasks;
  while (!stop_requested_) {
    {
      std::lock_guard lock(inbox_->mu);
      tasks.swap(inbox_->tasks);
      inbox_->poked = false;
    }
    run_tasks(tasks);
    while (!later_.empty() && later_.front().first <= steady_ms()) {
      auto task = std::move(later_.front().second);
      later_.pop_front();
      task();
    }
    // Index before loading: a cancel's done mark for a minute not loaded yet is only on disk,
    // so its entry must be in the timer log when the minute is loaded.
    bool more = index_timers();
    int64_t now = clock_();
    load_slots(now);
    deliver_levels(now);
    deliver_timers(now);
    settle_flushed();
    if (steady_ms() - last_persist_ms_ >= options_.flush_delay_offset_interval_ms) persist();
    {
      std::lock_guard lock(stats_mu_);
      stats_.timers_in_memory = heap_.size();
      stats_.timer_queue_offset = timer_queue_offset_;
    }
    if (more) continue;
    // Re-read the clock at least every kMaxWaitMs: a clock jump is noticed within that.
    int64_t wait = kMaxWaitMs;
    if (int64_t due = next_due_ms(); due != INT64_MAX) wait = std::clamp<int64_t>(due - clock_(), 0, kMaxWaitMs);
    if (!later_.empty()) wait = std::clamp<int64_t>(later_.front().first - steady_ms(), 0, wait);
    if (wait <= 0) continue;
    std::unique_lock lock(inbox_->mu);
    inbox_->cv.wait_for(lock, std::chrono::milliseconds(wait),
                        [this] { return !inbox_->tasks.empty() || inbox_->poked || stop_requested_; });
  }
  // Stopping: no new deliveries; wait (bounded) for puts in flight and their flush, then persist.
  delivering_ = false;
  const int64_t deadline = steady_ms() + kStopDrainMs;
  settle_flushed();
  while ((inflight_ > 0 || !flush_waits_.empty()) && steady_ms() < deadline) {
    {
      std::unique_lock lock(inbox_->mu);
      inbox_->cv.wait_for(lock, std::chrono::milliseconds(50), [this] { return !inbox_->tasks.empty(); });
      tasks.swap(inbox_->tasks);
    }
    run_tasks(tasks);
    settle_flushed();
  }
  {
    std::lock_guard lock(inbox_->mu);
    tasks.swap(inbox_->tasks);  // requests accepted before stop() closed the inbox
  }
  run_tasks(tasks);
  while (!later_.empty()) {  // retried cancels answer now (stop_requested_ ends their retries)
    auto task = std::move(later_.front().second);
    later_.pop_front();
    task();
  }
  if (inflight_ > 0 || !flush_waits_.empty())
    log_->warn(
        "schedule stopped with {} delivery puts unanswered and {} not flushed yet; they are delivered again after "
        "the restart",
        inflight_, flush_waits_.size());
  persist();
}

// ---- timers ----

bool Scheduler::index_timers() {
  if (!delivering_) return false;
  int budget = kIndexBudget;
  static thread_local int64_t last_error_log = 0;
  uint64_t indexed = 0;
  // Never index (nor checkpoint) records the store has not flushed: after a power loss their
  // commit-log offsets could hold other records.
  const int64_t flushed = store_->stats().flushed_commit_log_offset.value();
  while (budget > 0) {
    GetRequest request;
    request.topic = std::string(kTimerTopic);
    request.queue_id = 0;
    request.offset = QueueOffset(timer_queue_offset_);
    request.max_count = 256;
    request.max_bytes = 4 << 20;
    GetResult r = store_->get(request);
    if (r.status == GetStatus::kOffsetTooSmall) {
      log_->warn("timer topic messages below queue offset {} were removed by retention before they were indexed",
                 r.min_offset.value());
      if (r.min_offset.value() <= timer_queue_offset_) return false;
      timer_queue_offset_ = r.min_offset.value();
      continue;
    }
    if (r.status == GetStatus::kOffsetOverflowBadly) {
      log_->error("timer topic index offset {} is beyond the queue's end {}; continuing from the end",
                  timer_queue_offset_, r.max_offset.value());
      timer_queue_offset_ = r.max_offset.value();
      return false;
    }
    if (r.status != GetStatus::kFound && r.status != GetStatus::kNoMatchedMessage) return false;
    bool unflushed = false;
    for (const StoredMessage& m : r.messages) {
      if (m.commit_log_offset.value() + std::max<int64_t>(m.store_size, 1) > flushed) {
        unflushed = true;  // indexed on a later turn, once flushed
        break;
      }
      int64_t due = 0;
      if (!parse_i64(m.property(kTimerOutMs), &due)) due = m.store_timestamp_ms;
      TimerEntry e{due, m.commit_log_offset.value()};
      const int64_t slot = slot_of(due);
      if (Status st = files_.append_entry(slot, e); !st) {
        if (steady_ms() - last_error_log >= kLogEveryMs) {
          last_error_log = steady_ms();
          log_->error("cannot index timed messages: {}; retrying", st.to_string());
        }
        std::lock_guard lock(stats_mu_);
        stats_.timers_indexed += indexed;
        return false;
      }
      if (slot <= max_loaded_slot_) add_timer(slot, e, false);
      timer_queue_offset_ = m.queue_offset.value() + 1;
      ++indexed;
    }
    if (!unflushed) timer_queue_offset_ = std::max(timer_queue_offset_, r.next_begin_offset.value());
    {
      std::lock_guard lock(stats_mu_);
      stats_.timers_indexed += indexed;
      indexed = 0;
    }
    if (r.messages.empty()) return false;
    if (unflushed) {
      index_unflushed_timers();
      return false;
    }
    budget -= static_cast<int>(r.messages.size());
  }
  return true;
}

void Scheduler::index_unflushed_timers() {
  // Memory only: timers of loaded minutes beyond the flushed offset go into the heap so that a
  // slow ASYNC_FLUSH does not delay them; the timer log and checkpoint get them once flushed.
  // The pin keeps their minute loaded (and its de-duplication map) until then. A timer of a
  // minute not loaded yet waits for the flush (it is due more than the look-ahead away).
  if (max_loaded_slot_ == INT64_MIN) return;  // nothing loaded yet: the next turn
  mem_queue_offset_ = std::max(mem_queue_offset_, timer_queue_offset_);
  GetRequest request;
  request.topic = std::string(kTimerTopic);
  request.queue_id = 0;
  request.offset = QueueOffset(mem_queue_offset_);
  request.max_count = 256;
  request.max_bytes = 4 << 20;
  GetResult r = store_->get(request);
  if (r.status != GetStatus::kFound) return;
  for (const StoredMessage& m : r.messages) {
    int64_t due = 0;
    if (!parse_i64(m.property(kTimerOutMs), &due)) due = m.store_timestamp_ms;
    const int64_t slot = slot_of(due);
    if (slot <= max_loaded_slot_) {
      add_timer(slot, TimerEntry{due, m.commit_log_offset.value()}, false);
      LoadedSlot& ls = loaded_[slot];
      ls.pinned_until = std::max(ls.pinned_until, m.queue_offset.value() + 1);
    }
    mem_queue_offset_ = m.queue_offset.value() + 1;
  }
}

void Scheduler::add_timer(int64_t slot, const TimerEntry& e, bool done) {
  LoadedSlot& ls = loaded_[slot];
  auto [it, inserted] = ls.entries.try_emplace(e.offset, done ? ItemState::kDone : ItemState::kWaiting);
  if (!inserted || done) return;  // a duplicate (re-indexed after a restart) or already done
  ++ls.open;
  heap_.push(HeapEntry{e.due_ms, e.offset});
}

void Scheduler::load_slots(int64_t now) {
  const int64_t target = slot_of(now + kLookaheadMs);
  if (target <= max_loaded_slot_) return;
  std::vector<int64_t> to_load;
  for (auto it = files_.slots().upper_bound(max_loaded_slot_); it != files_.slots().end() && *it <= target; ++it)
    to_load.push_back(*it);
  for (int64_t slot : to_load) {
    auto entries = files_.read_slot(slot);
    auto done = entries ? files_.read_done(slot) : Result<std::unordered_set<int64_t>>(entries.status());
    if (!entries || !done) {
      log_->error("cannot load timer slot {}: {}; retrying", slot,
                  (!entries ? entries.status() : done.status()).to_string());
      return;  // max_loaded_slot_ stays: retried next turn
    }
    for (const TimerEntry& e : *entries) add_timer(slot, e, done->count(e.offset) > 0);
    // Marks of entries not indexed yet (cancelled early) stay in force when they are indexed.
    for (int64_t offset : *done) loaded_[slot].entries.try_emplace(offset, ItemState::kDone);
    max_loaded_slot_ = slot;
  }
  max_loaded_slot_ = target;
}

void Scheduler::deliver_timers(int64_t now) {
  const int64_t steady = steady_ms();
  while (!timer_retries_.empty() && timer_retries_.front().first <= steady) {
    heap_.push(timer_retries_.front().second);
    timer_retries_.pop_front();
  }
  while (delivering_ && !heap_.empty() && heap_.top().due_ms <= now && inflight_ < kMaxInflight) {
    HeapEntry e = heap_.top();
    heap_.pop();
    const int64_t slot = slot_of(e.due_ms);
    auto ls = loaded_.find(slot);
    if (ls == loaded_.end()) continue;
    auto st = ls->second.entries.find(e.offset);
    if (st == ls->second.entries.end() || st->second != ItemState::kWaiting) continue;  // cancelled
    auto record = store_->read_at(CommitLogOffset(e.offset));
    if (record) {
      int64_t due = 0;
      if (!parse_i64(record->property(kTimerOutMs), &due)) due = record->store_timestamp_ms;
      if (record->topic != kTimerTopic || due != e.due_ms) {
        log_->warn(
            "timer log entry (due {} ms, commit-log offset {}) names a record of topic '{}' due {} ms, not the indexed "
            "timed message (the commit log was truncated or rewritten after a crash); the entry is dropped",
            e.due_ms, e.offset, record->topic, due);
        st->second = ItemState::kDone;
        --ls->second.open;
        (void)files_.append_done(slot, e.offset, false);
        continue;
      }
    }
    Result<StoredMessage> msg = record ? restore_for_delivery(*record) : Result<StoredMessage>(record.status());
    if (!msg) {
      log_->error("timed message at commit-log offset {} cannot be delivered ({}); it is dropped", e.offset,
                  msg.status().to_string());
      st->second = ItemState::kDone;
      --ls->second.open;
      (void)files_.append_done(slot, e.offset, false);
      continue;
    }
    st->second = ItemState::kInflight;
    ++inflight_;
    put_own(std::move(msg).value(),
            [this, slot, e](Status status, int64_t end) { on_timer_put(slot, e, std::move(status), end); });
  }
}

void Scheduler::put_own(StoredMessage msg, std::function<void(Status, int64_t)> on_result) {
  auto shared = std::make_shared<std::function<void(Status, int64_t)>>(std::move(on_result));
  // Completions hop to the scheduler thread through the inbox (which outlives this object).
  auto finish = [inbox = inbox_, shared](Status st, int64_t end) {
    inbox->post([shared, st = std::move(st), end]() mutable { (*shared)(std::move(st), end); });
  };
  store_->put(std::move(msg), [pipeline = pipeline_, finish](PutResult put) {
    // FLUSH_DISK_TIMEOUT: appended but not known durable; retried (a duplicate, never a loss).
    if (!put.status) return finish(std::move(put.status), 0);
    const StoredRange range{put.commit_log_offset, CommitLogOffset(put.commit_log_offset.value() + put.wrote_bytes)};
    if (!pipeline) return finish(Status::ok(), range.end.value());
    pipeline->after_own_put(range, [finish, end = range.end.value()](Status st) { finish(std::move(st), end); });
  });
}

void Scheduler::settle_flushed() {
  if (flush_waits_.empty()) return;
  const int64_t flushed = store_->stats().flushed_commit_log_offset.value();
  while (!flush_waits_.empty() && flush_waits_.begin()->first <= flushed) {
    auto done = std::move(flush_waits_.begin()->second);
    flush_waits_.erase(flush_waits_.begin());
    done();
  }
}

void Scheduler::on_timer_put(int64_t slot, HeapEntry entry, Status status, int64_t end) {
  --inflight_;
  auto ls = loaded_.find(slot);
  if (ls == loaded_.end()) return;
  auto st = ls->second.entries.find(entry.offset);
  if (st == ls->second.entries.end()) return;
  if (status.is_ok()) {  // stays in flight until the copy is flushed
    flush_waits_.emplace(end, [this, slot, offset = entry.offset] { timer_durable(slot, offset); });
    return;
  }
  st->second = ItemState::kWaiting;
  timer_retries_.emplace_back(steady_ms() + kRetryMs, entry);
  static thread_local int64_t last_log = 0;
  if (steady_ms() - last_log >= kLogEveryMs) {
    last_log = steady_ms();
    log_->warn("delivering a timed message failed ({}); retrying every {} ms", status.to_string(), kRetryMs);
  }
  std::lock_guard lock(stats_mu_);
  ++stats_.put_failures;
}

void Scheduler::timer_durable(int64_t slot, int64_t offset) {
  auto ls = loaded_.find(slot);
  if (ls == loaded_.end()) return;
  auto st = ls->second.entries.find(offset);
  if (st == ls->second.entries.end() || st->second != ItemState::kInflight) return;
  st->second = ItemState::kDone;
  --ls->second.open;
  if (Status w = files_.append_done(slot, offset, false); !w)
    log_->error("cannot record a delivered timer: {}; it may be delivered again after a restart", w.to_string());
  std::lock_guard lock(stats_mu_);
  ++stats_.delivered;
}

// ---- delay levels ----

void Scheduler::refill_level(Level& level) {
  while (level.window.size() < kLevelWindow && level.window_bytes < kLevelWindowBytes) {
    GetRequest request;
    request.topic = std::string(kScheduleTopic);
    request.queue_id = level.level - 1;
    request.offset = QueueOffset(level.read_next);
    request.max_count = static_cast<int32_t>(std::min<size_t>(64, kLevelWindow - level.window.size()));
    request.max_bytes = static_cast<int32_t>(kLevelWindowBytes - level.window_bytes);
    GetResult r = store_->get(request);
    if (r.status == GetStatus::kOffsetTooSmall) {
      if (r.min_offset.value() <= level.read_next) return;
      log_->warn("delay level {}: messages below queue offset {} were removed by retention before delivery",
                 level.level, r.min_offset.value());
      level.read_next = r.min_offset.value();
      continue;
    }
    if (r.status == GetStatus::kOffsetOverflowBadly) {
      log_->error("delay level {}: delivery offset {} is beyond the queue's end {}; continuing from the end",
                  level.level, level.read_next, r.max_offset.value());
      level.read_next = r.max_offset.value();
      return;
    }
    if (r.status != GetStatus::kFound && r.status != GetStatus::kNoMatchedMessage) return;
    for (StoredMessage& m : r.messages) {
      LevelItem item;
      item.offset = m.queue_offset.value();
      item.due_ms = m.store_timestamp_ms + level.delay_ms;
      item.msg = std::move(m);
      level.window_bytes += static_cast<int64_t>(item.msg.body.size());
      level.window.push_back(std::move(item));
    }
    const bool got = !r.messages.empty();
    level.read_next = std::max(level.read_next, r.next_begin_offset.value());
    if (!got) return;
  }
}

void Scheduler::deliver_levels(int64_t now) {
  const int64_t steady = steady_ms();
  for (Level& level : levels_) {
    refill_level(level);
    for (LevelItem& item : level.window) {
      if (!delivering_ || inflight_ >= kMaxInflight) break;
      if (item.state != ItemState::kWaiting) continue;
      if (level_cancels_.count({level.level, item.offset}) > 0) {
        item.state = ItemState::kDone;
        continue;
      }
      // Queue order is due order: the first message not due yet ends this level's turn.
      if (item.due_ms > now || item.retry_at_ms > steady) break;
      auto msg = restore_for_delivery(item.msg);
      if (!msg) {
        log_->error("delay level {} offset {}: {}", level.level, item.offset, msg.status().message());
        item.state = ItemState::kDone;
        continue;
      }
      item.state = ItemState::kInflight;
      ++inflight_;
      const int32_t lv = level.level;
      const int64_t offset = item.offset;
      put_own(std::move(msg).value(),
              [this, lv, offset](Status status, int64_t end) { on_level_put(lv, offset, std::move(status), end); });
    }
    pop_done(level);
  }
}

void Scheduler::pop_done(Level& level) {
  while (!level.window.empty() && level.window.front().state == ItemState::kDone) {
    level.window_bytes -= static_cast<int64_t>(level.window.front().msg.body.size());
    level.window.pop_front();
  }
}

void Scheduler::level_durable(int32_t lv, int64_t offset) {
  Level& level = levels_[static_cast<size_t>(lv - 1)];
  for (LevelItem& item : level.window) {
    if (item.offset != offset) continue;
    if (item.state != ItemState::kInflight) break;
    item.state = ItemState::kDone;
    level.window_bytes -= static_cast<int64_t>(item.msg.body.size());
    item.msg = StoredMessage();  // free the body early
    std::lock_guard lock(stats_mu_);
    ++stats_.delivered;
    break;
  }
  pop_done(level);
}

void Scheduler::on_level_put(int32_t lv, int64_t offset, Status status, int64_t end) {
  --inflight_;
  Level& level = levels_[static_cast<size_t>(lv - 1)];
  for (LevelItem& item : level.window) {
    if (item.offset != offset) continue;
    if (status.is_ok()) {  // stays in flight (holding delayOffset back) until the copy is flushed
      flush_waits_.emplace(end, [this, lv, offset] { level_durable(lv, offset); });
    } else {
      item.state = ItemState::kWaiting;
      item.retry_at_ms = steady_ms() + kRetryMs;
      static thread_local int64_t last_log = 0;
      if (steady_ms() - last_log >= kLogEveryMs) {
        last_log = steady_ms();
        log_->warn("delivering a level-{} delayed message failed ({}); retrying every {} ms", lv, status.to_string(),
                   kRetryMs);
      }
      std::lock_guard lock(stats_mu_);
      ++stats_.put_failures;
    }
    break;
  }
  pop_done(level);
}

int64_t Scheduler::next_due_ms() const {
  if (inflight_ >= kMaxInflight) return INT64_MAX;  // completions wake the loop
  int64_t due = heap_.empty() ? INT64_MAX : heap_.top().due_ms;
  const int64_t steady = steady_ms();
  for (const Level& level : levels_)
    for (const LevelItem& item : level.window)
      if (item.state == ItemState::kWaiting) {
        // A failed put waits for its retry time (the loop's 100 ms cap covers it): no spinning.
        if (item.retry_at_ms <= steady) due = std::min(due, item.due_ms);
        break;
      }
  return due;
}

// ---- persistence ----

void Scheduler::persist() {
  last_persist_ms_ = steady_ms();
  // 1. The timer log, then the checkpoint that claims it holds everything indexed so far.
  if (Status st = files_.sync_all(); !st) {
    log_->error("cannot sync the timer log: {}; the timer checkpoint is not advanced", st.to_string());
  } else if (Status cp = write_file_atomically(store_root_ + "/config/timerCheckpoint.json",
                                               "{\"timerQueueOffset\":" + std::to_string(timer_queue_offset_) + "}\n");
             !cp) {
    log_->error("cannot write the timer checkpoint: {}", cp.to_string());
  } else {
    // 2. Slots whose entries are all delivered (and checkpointed) are deleted.
    const int64_t current = slot_of(clock_());
    for (auto it = loaded_.begin(); it != loaded_.end();) {
      if (it->first < current && it->second.open == 0 && it->second.pinned_until <= timer_queue_offset_) {
        if (Status rm = files_.remove_slot(it->first); !rm) log_->warn("{}", rm.to_string());
        it = loaded_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // 3. Delay-level progress.
  std::map<int32_t, int64_t> table;
  for (const Level& l : levels_) table[l.level] = l.committed();
  if (Status st = write_file_atomically(store_root_ + "/config/delayOffset.json", encode_offset_table(table)); !st)
    log_->error("cannot persist delay offsets: {}", st.to_string());
  // 4. Cancellations below the delivery offsets are no longer needed.
  for (auto it = level_cancels_.begin(); it != level_cancels_.end();) {
    int32_t lv = it->first;
    bool below = lv >= 1 && lv <= static_cast<int32_t>(levels_.size()) &&
                 it->second < levels_[static_cast<size_t>(lv - 1)].committed();
    if (below) {
      it = level_cancels_.erase(it);
      level_cancels_dirty_ = true;
    } else {
      ++it;
    }
  }
  if (level_cancels_dirty_) {
    if (Status st = files_.rewrite_level_cancels(level_cancels_); st) level_cancels_dirty_ = false;
  }
  std::lock_guard lock(stats_mu_);
  offsets_snapshot_ = std::move(table);
}

// ---- requests ----

void Scheduler::do_send_back(const ConsumerSendBack& request, Reply<Status> reply) {
  const std::string retry_topic = std::string(kRetryGroupTopicPrefix) + request.group;
  if (request.group.empty()) return reply(Status::invalid("consumer send-back names no consumer group"));
  if (std::string why = validate_topic_name(std::string(kDlqGroupTopicPrefix) + request.group); !why.empty())
    return reply(Status::invalid("consumer group '" + request.group + "' cannot name a retry topic: " + why));
  auto failed = store_->read_at(request.offset);
  if (!failed)
    return reply(Status(Code::kQueryNotFound,
                        "consumer send-back of group '" + request.group + "': no message at commit-log offset " +
                            std::to_string(request.offset.value()) + " (" + failed.status().message() + ")"));
  if (is_system_topic(failed->topic))
    return reply(Status(Code::kNoPermission, "consumer send-back of group '" + request.group +
                                                 "': the record at commit-log offset " +
                                                 std::to_string(request.offset.value()) + " is in system topic '" +
                                                 failed->topic + "'; only consumed messages can be sent back"));
  if (failed->topic != request.origin_topic && failed->topic != retry_topic)
    return reply(Status(Code::kNoPermission,
                        "consumer send-back of group '" + request.group + "': the record at commit-log offset " +
                            std::to_string(request.offset.value()) + " is in topic '" + failed->topic +
                            "', not the origin topic '" + request.origin_topic + "' nor '" + retry_topic +
                            "'; send back the offset of the consumed message"));
  int32_t max_times = request.max_reconsume_times;
  if (max_times < 0) {
    auto group = context_->find_subscription_group(request.group);
    if (!group)
      return reply(Status(Code::kServiceNotAvailable,
                          "broker is not serving; retry the send-back of group '" + request.group + "' later"));
    max_times = group->retry_max_times;
  }
  SendBackPlan plan = plan_send_back(*failed, request, max_times, static_cast<int32_t>(levels_.size()));
  TopicConfig wanted;
  wanted.topic_name = plan.target_topic;
  wanted.read_queue_nums = 1;
  wanted.write_queue_nums = 1;
  wanted.perm = kPermRead | kPermWrite;
  if (auto ensured = context_->ensure_topic(wanted); !ensured)
    return reply(Status(ensured.status().code(),
                        "cannot create '" + plan.target_topic + "' for the send-back: " + ensured.status().message()));
  if (plan.to_dlq)
    log_->info("message {} of group {} goes to {} after {} consumption attempts", request.origin_msg_id, request.group,
               plan.target_topic, failed->reconsume_times + 1);
  // The reply waits for the after-store hooks (SYNC_MASTER: a slave has the copy); any non-OK
  // status, FLUSH_DISK_TIMEOUT included, is the reply (the consumer retries; a duplicate at worst).
  auto shared = std::make_shared<Reply<Status>>(std::move(reply));
  store_->put(std::move(plan.message), [pipeline = pipeline_, shared](PutResult put) {
    if (!put.status) return (*shared)(std::move(put.status));
    if (!pipeline) return (*shared)(Status::ok());
    const StoredRange range{put.commit_log_offset, CommitLogOffset(put.commit_log_offset.value() + put.wrote_bytes)};
    pipeline->after_own_put(range, [shared](Status st) { (*shared)(std::move(st)); });
  });
}

void Scheduler::do_cancel(const std::string& topic, const std::string& msg_id, Reply<Status> reply,
                          int64_t index_target, int attempt) {
  if (topic.empty() || msg_id.empty()) return reply(Status::invalid("cancel needs a topic and a message id"));
  Status last = not_pending(topic, msg_id, "it was never scheduled, was already delivered or was already cancelled");
  // Sampled before the queries: an index that catches up while they run may hold the message
  // after a query missed it, so "indexed up to the target" must hold before, not after.
  const int64_t indexed_to = store_->stats().dispatched_commit_log_offset.value();
  for (std::string_view system_topic : {kTimerTopic, kScheduleTopic}) {
    auto found = store_->query_by_key(std::string(system_topic), msg_id, 64, 0, -1);
    for (const StoredMessage& c : found) {  // newest first: a retried message has older copies
      if (c.property(prop::kUniqKey) != msg_id || c.property(prop::kRealTopic) != topic) continue;
      Status st = system_topic == kTimerTopic ? cancel_timer(c) : cancel_level(c);
      if (st.is_ok()) {
        log_->info("cancelled scheduled message {} of topic {}", msg_id, topic);
        return reply(Status::ok());
      }
      if (st.code() != Code::kQueryNotFound) return reply(std::move(st));
      last = not_pending(topic, msg_id, st.message());
    }
  }
  constexpr int kMaxAttempts = 100;  // 20 ms apart: the index gets 2 s to catch up
  if (attempt < kMaxAttempts && !stop_requested_ && indexed_to < index_target) {
    later_.emplace_back(steady_ms() + 20,
                        [this, topic, msg_id, reply = std::move(reply), index_target, attempt]() mutable {
                          do_cancel(topic, msg_id, std::move(reply), index_target, attempt + 1);
                        });
    return;
  }
  reply(std::move(last));
}

Status Scheduler::cancel_timer(const StoredMessage& c) {
  int64_t due = 0;
  if (!parse_i64(c.property(kTimerOutMs), &due)) due = c.store_timestamp_ms;
  const int64_t slot = slot_of(due);
  const int64_t offset = c.commit_log_offset.value();
  if (slot <= max_loaded_slot_) {
    LoadedSlot& ls = loaded_[slot];
    auto it = ls.entries.find(offset);
    if (it == ls.entries.end()) {
      if (c.queue_offset.value() < timer_queue_offset_)
        return Status(Code::kQueryNotFound, "it was already delivered or cancelled");
      // Not indexed yet: the mark makes the indexer skip it.
      if (Status st = files_.append_done(slot, offset, true); !st) return st;
      ls.entries.emplace(offset, ItemState::kDone);
      ls.pinned_until = std::max(ls.pinned_until, c.queue_offset.value() + 1);
      return Status::ok();
    }
    if (it->second != ItemState::kWaiting)
      return Status(Code::kQueryNotFound, "it was already delivered, is being delivered, or was cancelled");
    if (Status st = files_.append_done(slot, offset, true); !st) return st;
    it->second = ItemState::kDone;
    --ls.open;
    return Status::ok();
  }
  auto done = files_.read_done(slot);
  if (!done) return done.status();
  if (done->count(offset) > 0) return Status(Code::kQueryNotFound, "it was already cancelled");
  return files_.append_done(slot, offset, true);
}

Status Scheduler::cancel_level(const StoredMessage& c) {
  const int32_t lv = c.queue_id + 1;
  if (lv < 1 || lv > static_cast<int32_t>(levels_.size()))
    return Status(Code::kQueryNotFound, "its delay level " + std::to_string(lv) + " is not configured");
  const int64_t offset = c.queue_offset.value();
  Level& level = levels_[static_cast<size_t>(lv - 1)];
  if (offset < level.committed()) return Status(Code::kQueryNotFound, "it was already delivered");
  for (const LevelItem& item : level.window)
    if (item.offset == offset && item.state != ItemState::kWaiting)
      return Status(Code::kQueryNotFound, "it was already delivered or is being delivered");
  if (level_cancels_.count({lv, offset}) > 0) return Status(Code::kQueryNotFound, "it was already cancelled");
  if (Status st = files_.append_level_cancel(lv, offset); !st) return st;
  level_cancels_.emplace(lv, offset);
  return Status::ok();
}

}  // namespace mq::schedule
