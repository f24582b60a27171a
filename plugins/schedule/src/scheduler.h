// Scheduler: the schedule plugin's engine and its ScheduleService. One scheduler thread
// owns all delivery state: it reads the delay-level queues of SCHEDULE_TOPIC_XXXX, indexes
// the timer topic into the on-disk timer log (TimerFiles), loads near-future timer slots
// into a min-heap, puts due messages back to their real topics, serves send-back and
// cancel requests, and persists progress. Other threads only post tasks to its inbox
// (requests, put completions) or poke it (arrivals).
// Durability invariant: a delivery counts (done mark, slot deletion, delayOffset.json) only
// once its put answered OK, PutPipeline::after_own_put answered OK (replicas, SYNC_MASTER)
// and the store's flushed commit-log offset reached the end of the put; the timer index and
// its checkpoint never cover timer-topic records beyond the flushed offset. A crash can
// repeat a delivery, never lose one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "mq/broker_context.h"
#include "mq/message_store.h"
#include "mq/put_pipeline.h"
#include "mq/schedule_service.h"
#include "schedule_options.h"
#include "timer_files.h"

namespace mq::schedule {

// Wall-clock milliseconds since the epoch; injectable for tests.
using Clock = std::function<int64_t()>;
Clock system_clock_ms();

// Counters for tests and the benchmark. Any thread.
struct SchedulerStats {
  uint64_t delivered = 0;         // puts back to real topics that succeeded and are durable
  uint64_t put_failures = 0;      // delivery puts that failed (retried later)
  uint64_t timers_indexed = 0;    // timer-topic messages written to the timer log
  uint64_t timers_in_memory = 0;  // entries of loaded slots still pending
  int64_t timer_queue_offset = 0;
};

// The before-store hook: rewrites DELAY / TIMER_* messages (see message_rewrite.h).
class ScheduleHook final : public BeforeStoreHook {
 public:
  ScheduleHook(std::vector<int64_t> level_delay_ms, int64_t timer_max_delay_ms, Clock clock);
  Status before_store(StoredMessage& msg) override;

 private:
  std::vector<int64_t> level_delay_ms_;
  int64_t timer_max_delay_ms_;
  Clock clock_;
};

class Scheduler final : public ScheduleService {
 public:
  Scheduler(ScheduleOptions options, std::string store_root, std::shared_ptr<MessageStore> store,
            std::shared_ptr<BrokerContext> context, std::shared_ptr<spdlog::logger> log, Clock clock,
            std::shared_ptr<PutPipeline> pipeline = nullptr);  // nullptr: no after-store hooks
  ~Scheduler() override;

  // Loads delayOffset.json, the timer checkpoint and the timer log; starts the thread.
  Status start();
  // Stops issuing deliveries, waits (bounded) for puts in flight, persists, joins. Idempotent.
  void stop();

  void send_back(ConsumerSendBack request, Reply<Status> reply) override;
  void cancel(std::string topic, std::string msg_id, Reply<Status> reply) override;

  SchedulerStats stats() const;
  // Delivery offsets per level (1-based), as persisted next.
  std::map<int32_t, int64_t> level_offsets() const;

 private:
  // Tasks posted from any thread; the scheduler thread runs them in order.
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> tasks;
    std::atomic<bool> poked{false};  // set by arrivals; a wake-up only when it was clear
    bool accepting = true;           // false after stop(): requests are refused
    void post(std::function<void()> task);
    bool post_request(std::function<void()> task);  // false when not accepting
    void poke();
  };

  enum class ItemState : uint8_t { kWaiting, kInflight, kDone };
  struct LevelItem {
    int64_t offset = 0;
    int64_t due_ms = 0;
    StoredMessage msg;
    ItemState state = ItemState::kWaiting;
    int64_t retry_at_ms = 0;  // steady ms; a failed put waits until then
  };
  struct Level {
    int32_t level = 0;  // 1-based
    int64_t delay_ms = 0;
    int64_t read_next = 0;         // next queue offset to read into the window
    std::deque<LevelItem> window;  // read, not yet delivered (in queue order)
    int64_t window_bytes = 0;      // body bytes held by `window` (bounded per level)
    int64_t committed() const { return window.empty() ? read_next : window.front().offset; }
  };
  struct HeapEntry {
    int64_t due_ms;
    int64_t offset;
    bool operator>(const HeapEntry& o) const { return due_ms != o.due_ms ? due_ms > o.due_ms : offset > o.offset; }
  };
  struct LoadedSlot {
    std::unordered_map<int64_t, ItemState> entries;  // commit-log offset -> state
    size_t open = 0;                                 // entries waiting or in flight
    int64_t pinned_until = 0;                        // kept until the timer topic is indexed this far (cancel marks)
  };

  void run();
  void run_tasks(std::deque<std::function<void()>>& tasks);
  bool index_timers();  // true when more is waiting
  void index_unflushed_timers();
  void load_slots(int64_t now);
  void add_timer(int64_t slot, const TimerEntry& e, bool done);
  void refill_level(Level& level);
  void deliver_levels(int64_t now);
  void deliver_timers(int64_t now);
  // Puts `msg`, then runs after_own_put; `on_result` runs on the scheduler thread with the
  // first non-OK status (FLUSH_DISK_TIMEOUT included) or OK and the end of the put.
  void put_own(StoredMessage msg, std::function<void(Status, int64_t end)> on_result);
  void on_level_put(int32_t level, int64_t offset, Status status, int64_t end);
  void on_timer_put(int64_t slot, HeapEntry entry, Status status, int64_t end);
  void level_durable(int32_t level, int64_t offset);
  void timer_durable(int64_t slot, int64_t offset);
  // Runs the flush waits whose put end the store's flushed offset has reached.
  void settle_flushed();
  static void pop_done(Level& level);
  int64_t next_due_ms() const;  // earliest due among deliverable work, INT64_MAX if none
  void persist();
  void do_send_back(const ConsumerSendBack& request, Reply<Status> reply);
  // `index_target`: the end of the commit log when the request came; while the key index
  // has not reached it, a miss is retried (the message may be stored but not indexed yet).
  void do_cancel(const std::string& topic, const std::string& msg_id, Reply<Status> reply, int64_t index_target,
                 int attempt);
  Status cancel_timer(const StoredMessage& candidate);
  Status cancel_level(const StoredMessage& candidate);
  int64_t steady_ms() const;

  const ScheduleOptions options_;
  const std::string store_root_;
  const std::shared_ptr<MessageStore> store_;
  const std::shared_ptr<BrokerContext> context_;
  const std::shared_ptr<spdlog::logger> log_;
  const Clock clock_;
  const std::shared_ptr<PutPipeline> pipeline_;
  const std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();

  // ---- scheduler thread only (and start() before the thread exists) ----
  std::vector<Level> levels_;
  std::set<std::pair<int32_t, int64_t>> level_cancels_;  // (level, queue offset)
  bool level_cancels_dirty_ = false;
  TimerFiles files_;
  int64_t timer_queue_offset_ = 0;  // next timer-topic queue offset to index (flushed records only)
  int64_t mem_queue_offset_ = 0;    // next one to put in memory (>= timer_queue_offset_)
  int64_t max_loaded_slot_ = INT64_MIN;
  std::map<int64_t, LoadedSlot> loaded_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap_;
  std::deque<std::pair<int64_t, HeapEntry>> timer_retries_;      // (steady ms, entry)
  std::deque<std::pair<int64_t, std::function<void()>>> later_;  // (steady ms, task) in time order
  // Deliveries stored (and replicated) but not yet flushed: (put end, what to mark done).
  std::multimap<int64_t, std::function<void()>> flush_waits_;
  size_t inflight_ = 0;  // puts not answered yet (flush waits excluded)
  bool delivering_ = true;
  int64_t last_persist_ms_ = 0;
  bool started_ = false;

  std::atomic<bool> stop_requested_{false};
  std::thread thread_;

  // ---- stats (any thread) ----
  mutable std::mutex stats_mu_;
  SchedulerStats stats_;
  std::map<int32_t, int64_t> offsets_snapshot_;
};

}  // namespace mq::schedule
