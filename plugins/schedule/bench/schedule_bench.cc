// schedule_bench: the timer engine under load, printed as one JSON line (never asserts).
//  1. memory: 1,000,000 timers due 1 h .. 3 days ahead are indexed; RSS delta of the
//     scheduler (the store is a compact in-memory fake, allocated before the baseline).
//  2. lateness: with those still pending, timers due 1-3 s ahead are produced (a) at full
//     speed, (b) at a fixed rate, for a few seconds each; lateness = delivery time - due time.
//     (b) shows the lateness of a scheduler that keeps up; (a) one that is outrun: an
//     in-process producer writes to this fake store faster than any delivery can go.
// Usage: schedule_bench [pending=1000000] [produce_seconds=3] [paced_rate=100000]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "message_rewrite.h"
#include "mq/schedule_service.h"
#include "scheduler.h"

namespace {

using namespace mq;
using namespace mq::schedule;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double rss_mib() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// A compact MessageStore: timer-topic messages are kept as (due, store time) pairs and
// rebuilt on read; puts to the real topic record their lateness. Puts complete inline.
class BenchStore final : public MessageStore {
 public:
  static constexpr int64_t kRecord = 64;  // fake record size: commit offset = index * 64

  void reserve(size_t n) {
    std::lock_guard lock(mu_);
    due_.reserve(n);
    stored_.reserve(n);
  }
  void put(StoredMessage msg, PutCallback done) override {
    PutResult r;
    const int64_t now = now_ms();
    if (msg.topic == kTimerTopic) {
      int64_t due = std::stoll(std::string(msg.property(kTimerOutMs)));
      std::vector<ArrivalListener> listeners;
      {
        std::lock_guard lock(mu_);
        r.queue_offset = QueueOffset(static_cast<int64_t>(due_.size()));
        due_.push_back(due);
        stored_.push_back(now);
        listeners = listeners_;
      }
      r.commit_log_offset = CommitLogOffset(r.queue_offset.value() * kRecord);
      r.wrote_bytes = kRecord;
      r.store_timestamp_ms = now;
      done(r);
      for (auto& l : listeners) l(msg.topic, 0, r.queue_offset + 1, 0);
      return;
    }
    if (record_.load()) {
      std::lock_guard lock(mu_);
      lateness_.push_back(now - std::stoll(msg.body));
    }
    delivered_.fetch_add(1);
    r.store_timestamp_ms = now;
    done(r);
  }
  void put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) override {
    std::vector<PutResult> out;
    for (auto& m : msgs) put(std::move(m), [&out](PutResult r) { out.push_back(r); });
    done(std::move(out));
  }
  GetResult get(const GetRequest& request) override {
    GetResult r;
    if (request.topic != kTimerTopic || request.queue_id != 0) return r;
    std::lock_guard lock(mu_);
    const auto max = static_cast<int64_t>(due_.size());
    r.max_offset = QueueOffset(max);
    r.next_begin_offset = request.offset;
    if (request.offset.value() >= max) {
      r.status = max == 0 ? GetStatus::kNoMessageInQueue : GetStatus::kOffsetOverflowOne;
      return r;
    }
    r.status = GetStatus::kFound;
    int64_t i = request.offset.value();
    for (; i < max && static_cast<int32_t>(r.messages.size()) < request.max_count; ++i) r.messages.push_back(build(i));
    r.next_begin_offset = QueueOffset(i);
    return r;
  }
  QueueOffset min_offset(const std::string&, QueueId) override { return QueueOffset(0); }
  QueueOffset max_offset(const std::string&, QueueId) override {
    std::lock_guard lock(mu_);
    return QueueOffset(static_cast<int64_t>(due_.size()));
  }
  QueueOffset offset_by_time(const std::string&, QueueId, int64_t) override { return QueueOffset(0); }
  Result<StoredMessage> read_at(CommitLogOffset offset) override {
    std::lock_guard lock(mu_);
    int64_t i = offset.value() / kRecord;
    if (i < 0 || i >= static_cast<int64_t>(due_.size())) return Status(Code::kQueryNotFound, "no record");
    return build(i);
  }
  std::vector<StoredMessage> query_by_key(const std::string&, const std::string&, int32_t, int64_t, int64_t) override {
    return {};
  }
  void add_arrival_listener(ArrivalListener listener) override {
    std::lock_guard lock(mu_);
    listeners_.push_back(std::move(listener));
  }
  StoreStats stats() override {  // in memory: every record counts as flushed
    StoreStats s;
    s.flushed_commit_log_offset = CommitLogOffset(INT64_MAX / 2);
    return s;
  }

  void record_lateness(bool on) { record_ = on; }
  void clear_lateness() {
    std::lock_guard lock(mu_);
    lateness_.clear();
  }
  uint64_t delivered() const { return delivered_.load(); }
  std::vector<int64_t> lateness() {
    std::lock_guard lock(mu_);
    return lateness_;
  }

 private:
  StoredMessage build(int64_t i) const {  // requires mu_
    StoredMessage m;
    m.topic = std::string(kTimerTopic);
    m.queue_offset = QueueOffset(i);
    m.commit_log_offset = CommitLogOffset(i * kRecord);
    m.store_timestamp_ms = stored_[static_cast<size_t>(i)];
    const int64_t due = due_[static_cast<size_t>(i)];
    m.body = std::to_string(due);
    m.set_property(prop::kRealTopic, "BenchTopic");
    m.set_property(prop::kRealQueueId, "0");
    m.set_property(kTimerOutMs, std::to_string(due));
    return m;
  }

  mutable std::mutex mu_;
  std::vector<int64_t> due_, stored_;
  std::vector<int64_t> lateness_;
  std::vector<ArrivalListener> listeners_;
  std::atomic<bool> record_{false};
  std::atomic<uint64_t> delivered_{0};
};

class NoContext final : public BrokerContext {
 public:
  std::optional<TopicConfig> find_topic(const std::string&) override { return std::nullopt; }
  Result<TopicConfig> ensure_topic(const TopicConfig& t) override { return t; }
  std::optional<SubscriptionGroupConfig> find_subscription_group(const std::string&) override { return std::nullopt; }
  bool producer_online(const std::string&) override { return false; }
};

void produce(BenchStore& store, ScheduleHook& hook, int64_t delay_ms) {
  static const std::string kTopic("BenchTopic");
  StoredMessage m;
  m.topic = kTopic;  // copies, not literal assignment: GCC 12 -Wrestrict false positive
  m.body.push_back('x');
  m.set_property(prop::kTimerDelayMs, std::to_string(delay_ms));
  (void)hook.before_store(m);
  store.put(std::move(m), [](PutResult) {});
}

int64_t percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return -1;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t pending = argc > 1 ? std::atoll(argv[1]) : 1000000;
  const int produce_seconds = argc > 2 ? std::atoi(argv[2]) : 3;
  const int64_t paced_rate = argc > 3 ? std::atoll(argv[3]) : 100000;
  char tmpl[] = "/tmp/mqsched-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;

  ScheduleOptions options;
  options.level_delay_ms = {1000};
  auto store = std::make_shared<BenchStore>();
  store->reserve(static_cast<size_t>(pending) + 50'000'000);  // room for phase 2: no realloc
  auto log = std::make_shared<spdlog::logger>("schedule");
  log->set_level(spdlog::level::err);
  ScheduleHook hook(options.level_delay_ms, options.timer_max_delay_ms, system_clock_ms());

  // Phase 1: a million timers 1 h .. 3 days ahead.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> far(3600LL * 1000, 3LL * 24 * 3600 * 1000 - 3600LL * 1000);
  for (int64_t i = 0; i < pending; ++i) produce(*store, hook, far(rng));
  const double rss_before = rss_mib();
  auto scheduler =
      std::make_shared<Scheduler>(options, dir, store, std::make_shared<NoContext>(), log, system_clock_ms());
  auto t0 = std::chrono::steady_clock::now();
  if (!scheduler->start().is_ok()) return 1;
  while (scheduler->stats().timers_indexed < static_cast<uint64_t>(pending))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double index_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double rss_after = rss_mib();
  const uint64_t in_memory = scheduler->stats().timers_in_memory;

  // Phase 2: timers due 1-3 s ahead, produced (a) at full speed, (b) at a fixed rate.
  struct Run {
    uint64_t produced = 0;
    double per_sec = 0;
    size_t delivered = 0;
    int64_t min = -1, p50 = -1, p99 = -1, max = -1;
  };
  std::uniform_int_distribution<int64_t> near(1000, 3000);
  auto run = [&](int seconds, int64_t rate) {
    Run out;
    store->clear_lateness();
    const uint64_t delivered_before = store->delivered();
    auto p0 = std::chrono::steady_clock::now();
    while (true) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
      if (elapsed >= seconds) break;
      if (rate > 0 && static_cast<double>(out.produced) >= elapsed * static_cast<double>(rate)) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      for (int i = 0; i < 64; ++i) produce(*store, hook, near(rng));
      out.produced += 64;
    }
    out.per_sec = static_cast<double>(out.produced) /
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (store->delivered() - delivered_before < out.produced && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto lateness = store->lateness();
    out.delivered = lateness.size();
    out.p50 = percentile(lateness, 0.50);
    out.p99 = percentile(lateness, 0.99);
    if (!lateness.empty()) {
      out.max = *std::max_element(lateness.begin(), lateness.end());
      out.min = *std::min_element(lateness.begin(), lateness.end());
    }
    return out;
  };
  store->record_lateness(true);
  const Run full = run(produce_seconds, 0);
  const Run paced = run(produce_seconds, paced_rate);
  scheduler->stop();
  std::printf(
      "{\"bench\":\"schedule_timers\",\"pending_timers\":%lld,\"index_seconds\":%.2f,\"index_per_sec\":%.0f,"
      "\"rss_delta_mib\":%.1f,\"timers_in_memory\":%llu,"
      "\"full_speed\":{\"produced\":%llu,\"per_sec\":%.0f,\"delivered\":%zu,\"lateness_ms_min\":%lld,"
      "\"p50\":%lld,\"p99\":%lld,\"max\":%lld},"
      "\"paced\":{\"produced\":%llu,\"per_sec\":%.0f,\"delivered\":%zu,\"lateness_ms_min\":%lld,"
      "\"p50\":%lld,\"p99\":%lld,\"max\":%lld}}\n",
      static_cast<long long>(pending), index_s, static_cast<double>(pending) / index_s, rss_after - rss_before,
      static_cast<unsigned long long>(in_memory), static_cast<unsigned long long>(full.produced), full.per_sec,
      full.delivered, static_cast<long long>(full.min), static_cast<long long>(full.p50),
      static_cast<long long>(full.p99), static_cast<long long>(full.max),
      static_cast<unsigned long long>(paced.produced), paced.per_sec, paced.delivered,
      static_cast<long long>(paced.min), static_cast<long long>(paced.p50), static_cast<long long>(paced.p99),
      static_cast<long long>(paced.max));
  std::filesystem::remove_all(dir);
  return 0;
}
