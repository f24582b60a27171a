// storage-mmap micro-benchmark (a tool, not a test): append throughput in ASYNC_FLUSH
// against a plain memcpy of the same bytes into a pre-faulted mapped file, SYNC_FLUSH group
// commit with 1/16/64 writers, consume-queue read throughput and crash-recovery time.
// Usage: storage_mmap_bench [--dir D] [--mib N] [--recovery-mib N] [--sync-seconds S] [--runs R]
//                           [--only async|views|floor|sync|recovery] [--pwrite 1] [--sync-writers loops|threads]
// (--only views: the async part's put_views of 64 messages per call only, e.g. to profile it;
// --only floor: its memcpy baseline and write_record alone)
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "checkpoint.h"
#include "mmap_store.h"
#include "record_codec.h"

namespace mq::storage_mmap {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string dir;
  int64_t mib = 256;
  int64_t recovery_mib = 1024;
  double sync_seconds = 3;
  int runs = 3;
  std::string only;   // "async", "views", "sync" or "recovery": run just that part
  int only_body = 0;  // async: just this body size
  // SYNC_FLUSH writers: "loops" issue each put from the previous one's completion, as the
  // broker's connections do (no thread blocks); "threads" are OS threads blocking on each put.
  std::string sync_writers = "loops";
};

// Exits with the store's error (the tool has no way to go on without its store).
void must(const Status& st, const char* what) {
  if (st.is_ok()) return;
  std::fprintf(stderr, "%s failed: %s\n", what, st.to_string().c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of the calling thread: unlike wall time, not inflated when other processes on
// the shared machine take the core away.
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Timed {
  double wall = 0, cpu = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::shared_ptr<spdlog::logger> make_logger() {
  auto l = std::make_shared<spdlog::logger>("storage-mmap", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  const char* level = std::getenv("MQ_BENCH_LOG");  // e.g. MQ_BENCH_LOG=info
  l->set_level(level ? spdlog::level::from_str(level) : spdlog::level::warn);
  return l;
}

StoredMessage message(int body_size, int i) {
  StoredMessage m;
  m.topic = "BenchTopic";
  m.queue_id = i % 4;
  m.body.assign(static_cast<size_t>(body_size), static_cast<char>('a' + i % 26));
  m.set_property(prop::kTags, "TagA");
  m.set_property(prop::kKeys, "key" + std::to_string(i));
  m.born_timestamp_ms = 1700000000000;
  m.born_host = HostAddress{0x0A000001, 5555};
  return m;
}

// --pwrite 0|1: every store runs with appendWithPwrite off / on; without it, as a parsed
// configuration would (on with SYNC_FLUSH only).
int g_append_with_pwrite = -1;

StoreOptions options(const std::string& root, FlushDiskType mode, int64_t segment) {
  StoreOptions o;
  o.append_with_pwrite = g_append_with_pwrite < 0 ? mode == FlushDiskType::kSync : g_append_with_pwrite == 1;
  o.store_root = root;
  o.flush_disk_type = mode;
  o.commit_log_segment_size = segment;
  // The memcpy baseline writes into pre-faulted pages too (pwrite needs none: the store
  // would warn that the setting has no effect).
  o.warm_maped_file_enable = !o.append_with_pwrite;
  return o;
}

void wait_for_file(const std::string& path) {
  for (int i = 0; i < 2000 && !fs::exists(path); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// The memcpy baseline writes into pre-faulted pages: let the store's warm window (pages
// pre-faulted ahead of the writer) fill before timing its appends too.
void wait_for_warm(const MmapStore& store, int64_t bytes) {
  for (int i = 0; i < 4000 && store.warmed_to() < bytes; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

struct AppendFigures {
  double store_s = 0, memcpy_s = 0, copy_s = 0;
  double store_cpu = 0, memcpy_cpu = 0, batch_cpu = 0;  // thread CPU seconds of the same loops
  double batch_s = 0, batch_copy_s = 0;                 // put_batch of kBatch messages per call
  double views_s = 0, views_cpu = 0;                    // put_views of kBatch messages per call
  double view1_s = 0, view1_cpu = 0;                    // put_views of one message per call
  double write_cpu = 0, place_cpu = 0;                  // record_write_floor with, without CRC
  int64_t count = 0, bytes = 0;
  uint64_t put_path_creates = 0;
  double read_s = 0;
  int64_t read_count = 0;
};

// A file of `bytes`, fallocated, mapped MAP_SHARED and pre-faulted for writing; removed
// with the object.
class PrefaultedFile {
 public:
  PrefaultedFile(std::string path, int64_t bytes) : path_(std::move(path)), bytes_(static_cast<size_t>(bytes)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd_ < 0 || ::posix_fallocate(fd_, 0, bytes) != 0) std::abort();
    data_ = static_cast<char*>(::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    if (data_ == MAP_FAILED) std::abort();
    ::madvise(data_, bytes_, MADV_POPULATE_WRITE);
  }
  ~PrefaultedFile() {
    ::munmap(data_, bytes_);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  PrefaultedFile(const PrefaultedFile&) = delete;
  PrefaultedFile& operator=(const PrefaultedFile&) = delete;
  char* data() const noexcept { return data_; }

 private:
  std::string path_;
  size_t bytes_;
  int fd_ = -1;
  char* data_ = nullptr;
};

// memcpy of `count` records (cycling through `pool`) into a pre-faulted MAP_SHARED file:
// the floor for an mmap append.
Timed memcpy_baseline(const std::string& path, const std::vector<std::string>& pool, int64_t count, int64_t bytes) {
  PrefaultedFile file(path, bytes);
  char* const p = file.data();
  auto t0 = Clock::now();
  double c0 = thread_cpu_s();
  int64_t w = 0;
  for (int64_t i = 0; i < count; ++i) {
    const std::string& r = pool[static_cast<size_t>(i) % pool.size()];
    std::memcpy(p + w, r.data(), r.size());
    w += static_cast<int64_t>(r.size());
  }
  return Timed{seconds_since(t0), thread_cpu_s() - c0};
}

// write_record alone, the same records from plans made before the clock starts, into a
// pre-faulted file: header, body, topic, properties and the CRC over them, what every append
// does whatever else it does (validation, queue offsets, the dispatcher's notes, positions).
// Its ratio to the memcpy is the share of the append's ratio that comes with a CRC'd record.
// Without `seal`, the same pieces put in place with no CRC computed (write_record_unsealed):
// what placing a record's parts costs over copying the same bytes in one piece.
Timed record_write_floor(const std::string& path, const std::vector<StoredMessage>& pool,
                         const std::vector<std::string>& props, int64_t count, int64_t bytes, bool seal) {
  std::vector<RecordPlan> plans(pool.size());
  for (size_t i = 0; i < pool.size(); ++i)
    plan_record(view_of(pool[i], props[i]), HostAddress{0x7F000001, 10911}, &plans[i]);
  PrefaultedFile file(path, bytes);
  char* const p = file.data();
  auto t0 = Clock::now();
  double c0 = thread_cpu_s();
  int64_t w = 0;
  RecordWriter writer;  // as the store writes records
  for (int64_t i = 0; i < count; ++i) {
    const RecordPlan& plan = plans[static_cast<size_t>(i) % plans.size()];
    if (seal) {
      writer.write(p + w, plan, i, w, 1700000000000 + i);
    } else {
      write_record_unsealed(p + w, plan, i, w, 1700000000000 + i);
    }
    w += plan.size;
  }
  writer.seal_pending();
  return Timed{seconds_since(t0), thread_cpu_s() - c0};
}

constexpr int kBatch = 64;  // messages per put_batch call (one queue per call)

// put_batch over `count` messages from `pool`, kBatch per call, cycling over the 4 queues;
// the caller's vector of copies is built inside the timed loop (as for single puts).
Timed timed_batches(MmapStore& store, const std::vector<StoredMessage>& pool, int64_t count,
                    std::atomic<int64_t>& failed) {
  auto t0 = Clock::now();
  double c0 = thread_cpu_s();
  for (int64_t i = 0, call = 0; i < count; i += kBatch, ++call) {
    std::vector<StoredMessage> batch;
    batch.reserve(kBatch);
    for (int64_t j = i; j < std::min(count, i + kBatch); ++j) {
      batch.push_back(pool[j & 1023]);
      batch.back().queue_id = static_cast<QueueId>(call % 4);
    }
    store.put_batch(std::move(batch), [&failed](std::vector<PutResult> rs) {
      for (const auto& r : rs)
        if (!r.status.is_ok()) failed.fetch_add(1, std::memory_order_relaxed);
    });
  }
  return Timed{seconds_since(t0), thread_cpu_s() - c0};
}

// put_views over `count` messages viewing `pool` (properties encoded once, as a producer
// sends them), `per_call` per call, cycling over the 4 queues: no copy by the caller. The
// views are built before the clock starts, as the memcpy baseline's records are: the loop
// copies them (and sets the call's queue), it does not convert messages. What they view is
// laid out one message after another (topic, properties, body), as in a received batch and
// as the baseline's records are, not scattered over the heap with the messages' other parts.
Timed timed_views(MmapStore& store, const std::vector<StoredMessage>& pool, const std::vector<std::string>& props,
                  int64_t count, int per_call, std::atomic<int64_t>& failed) {
  std::string arena;
  for (size_t i = 0; i < pool.size(); ++i) arena.append(pool[i].topic).append(props[i]).append(pool[i].body);
  std::vector<MessageView> pool_views;
  for (size_t i = 0, at = 0; i < pool.size(); ++i) {
    MessageView v = view_of(pool[i], props[i]);
    auto take = [&](size_t n) {
      std::string_view piece(arena.data() + at, n);
      at += n;
      return piece;
    };
    v.topic = take(v.topic.size());
    v.properties = take(v.properties.size());
    v.body = take(v.body.size());
    pool_views.push_back(v);
  }
  std::vector<MessageView> views(static_cast<size_t>(per_call));
  auto t0 = Clock::now();
  double c0 = thread_cpu_s();
  for (int64_t i = 0, call = 0; i < count; i += per_call, ++call) {
    const int64_t n = std::min<int64_t>(per_call, count - i);
    for (int64_t j = 0; j < n; ++j) {
      MessageView& v = views[static_cast<size_t>(j)];
      v = pool_views[static_cast<size_t>((i + j) & 1023)];
      v.queue_id = static_cast<QueueId>(call % 4);
    }
    store.put_views(std::span<const MessageView>(views.data(), static_cast<size_t>(n)), [&failed](PutViewsResult r) {
      if (!r.status.is_ok()) failed.fetch_add(1, std::memory_order_relaxed);
    });
  }
  return Timed{seconds_since(t0), thread_cpu_s() - c0};
}

// The put() and put_batch() figures of bench_async (and the consume-queue read-back).
void put_and_batch_phases(const std::vector<StoredMessage>& pool, const std::string& root, AppendFigures* out) {
  AppendFigures& f = *out;
  {  // cost of copying the StoredMessage handed to put() (part of the store figure)
    auto t0 = Clock::now();
    int64_t sink = 0;
    for (int64_t i = 0; i < f.count; ++i) {
      StoredMessage m = pool[i & 1023];
      sink += static_cast<int64_t>(m.body.size());
    }
    f.copy_s = seconds_since(t0);
    auto t1 = Clock::now();
    for (int64_t i = 0, call = 0; i < f.count; i += kBatch, ++call) {
      std::vector<StoredMessage> batch;
      batch.reserve(kBatch);
      for (int64_t j = i; j < std::min(f.count, i + kBatch); ++j) {
        batch.push_back(pool[j & 1023]);
        batch.back().queue_id = static_cast<QueueId>(call % 4);
      }
      sink += static_cast<int64_t>(batch.back().body.size());
    }
    f.batch_copy_s = seconds_since(t1);
    if (sink == 42) std::puts("");
  }

  fs::remove_all(root);
  auto store = std::make_shared<MmapStore>(options(root, FlushDiskType::kAsync, int64_t{128} << 20),
                                           HostAddress{0x7F000001, 10911}, make_logger());
  must(store->start(), "store start");
  wait_for_file(root + "/commitlog/" + offset_to_file_name(int64_t{128} << 20));  // first spare ready
  wait_for_warm(*store, SegmentAllocator::kWarmAhead);
  std::atomic<int64_t> failed{0};
  auto t0 = Clock::now();
  double c0 = thread_cpu_s();
  for (int64_t i = 0; i < f.count; ++i) {
    store->put(pool[i & 1023], [&failed](PutResult r) {
      if (!r.status.is_ok()) failed.fetch_add(1, std::memory_order_relaxed);
    });
  }
  f.store_s = seconds_since(t0);
  f.store_cpu = thread_cpu_s() - c0;
  if (failed.load() > 0) std::fprintf(stderr, "%lld puts failed\n", static_cast<long long>(failed.load()));
  f.put_path_creates = store->segments_created_on_put_path();

  // Read everything back through the consume queues.
  store->wait_dispatched(std::chrono::minutes(5));
  auto r0 = Clock::now();
  for (int q = 0; q < 4; ++q) {
    GetRequest req;
    req.topic = "BenchTopic";
    req.queue_id = q;
    req.max_count = 32;
    req.max_bytes = 1 << 30;
    while (true) {
      GetResult g = store->get(req);
      if (g.status != GetStatus::kFound) break;
      f.read_count += static_cast<int64_t>(g.messages.size());
      req.offset = g.next_begin_offset;
    }
  }
  f.read_s = seconds_since(r0);
  store->stop();
  fs::remove_all(root);
  {  // the same bytes again through put_batch, into a fresh store
    auto bstore = std::make_shared<MmapStore>(options(root + "-batch", FlushDiskType::kAsync, int64_t{128} << 20),
                                              HostAddress{0x7F000001, 10911}, make_logger());
    must(bstore->start(), "store start");
    wait_for_file(root + "-batch/commitlog/" + offset_to_file_name(int64_t{128} << 20));
    wait_for_warm(*bstore, SegmentAllocator::kWarmAhead);
    failed = 0;
    Timed bt = timed_batches(*bstore, pool, f.count, failed);
    f.batch_s = bt.wall;
    f.batch_cpu = bt.cpu;
    if (failed.load() > 0) std::fprintf(stderr, "%lld batched puts failed\n", static_cast<long long>(failed.load()));
    f.put_path_creates += bstore->segments_created_on_put_path();
    bstore->stop();
    fs::remove_all(root + "-batch");
  }
}

AppendFigures bench_async(const Args& a, int body_size, const std::string& root) {
  AppendFigures f;
  std::vector<StoredMessage> pool;
  std::vector<std::string> records;
  for (int i = 0; i < 1024; ++i) {
    pool.push_back(message(body_size, i));
    EncodedRecord rec;
    encode_record(pool.back(), HostAddress{0x7F000001, 10911}, &rec);
    records.push_back(rec.bytes);
  }
  const int64_t record_size = static_cast<int64_t>(records[0].size());
  f.count = a.mib * 1024 * 1024 / record_size;
  f.bytes = 0;
  for (int64_t i = 0; i < f.count; ++i) f.bytes += static_cast<int64_t>(records[i % 1024].size());

  // The baseline first, on a quiet machine: run after the store's phases it shared the
  // cores with their write-back and came out at 5-8 GB/s instead of ~15 (kinder ratios).
  Timed mc = memcpy_baseline(a.dir + "/memcpy.dat", records, f.count, f.bytes);
  f.memcpy_s = mc.wall;
  f.memcpy_cpu = mc.cpu;
  std::vector<std::string> props;
  for (const StoredMessage& m : pool) props.push_back(encode_properties(m));
  f.write_cpu = record_write_floor(a.dir + "/records.dat", pool, props, f.count, f.bytes, true).cpu;
  f.place_cpu = record_write_floor(a.dir + "/records.dat", pool, props, f.count, f.bytes, false).cpu;
  // put_views (the broker's path) next, while the machine is as quiet as for the baseline;
  // then put() and put_batch(), whose removed stores' write-back would share the run.
  std::atomic<int64_t> failed{0};
  for (int per_call : {kBatch, 1}) {  // the same bytes through put_views, each into a fresh store
    if (a.only == "floor" || (per_call == 1 && a.only == "views")) continue;
    const std::string vroot = root + "-views" + std::to_string(per_call);
    auto vstore = std::make_shared<MmapStore>(options(vroot, FlushDiskType::kAsync, int64_t{128} << 20),
                                              HostAddress{0x7F000001, 10911}, make_logger());
    must(vstore->start(), "store start");
    wait_for_file(vroot + "/commitlog/" + offset_to_file_name(int64_t{128} << 20));
    wait_for_warm(*vstore, SegmentAllocator::kWarmAhead);
    failed = 0;
    Timed vt = timed_views(*vstore, pool, props, f.count, per_call, failed);
    (per_call == 1 ? f.view1_s : f.views_s) = vt.wall;
    (per_call == 1 ? f.view1_cpu : f.views_cpu) = vt.cpu;
    if (failed.load() > 0) std::fprintf(stderr, "%lld put_views calls failed\n", static_cast<long long>(failed.load()));
    f.put_path_creates += vstore->segments_created_on_put_path();
    vstore->stop();
    fs::remove_all(vroot);
  }
  if (a.only != "views" && a.only != "floor") put_and_batch_phases(pool, root, &f);
  return f;
}

struct SyncFigures {
  double rate = 0;
  double flush_us = 0;  // mean commit-log msync time
  double acks_per_flush = 0;
};

SyncFigures bench_sync(const Args& a, int writers, const std::string& root) {
  fs::remove_all(root);
  auto store = std::make_shared<MmapStore>(options(root, FlushDiskType::kSync, int64_t{128} << 20),
                                           HostAddress{0x7F000001, 10911}, make_logger());
  must(store->start(), "store start");
  wait_for_file(root + "/commitlog/" + offset_to_file_name(int64_t{128} << 20));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  if (a.sync_writers == "threads") {
    for (int w = 0; w < writers; ++w) {
      ts.emplace_back([&, w] {
        StoredMessage m = message(1024, w);
        while (!stop.load(std::memory_order_relaxed)) {
          std::promise<PutResult> p;
          auto fut = p.get_future();
          store->put(m, [&p](PutResult r) { p.set_value(std::move(r)); });
          if (fut.get().status.is_ok()) done.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(a.sync_seconds));
    stop = true;
    for (auto& t : ts) t.join();
  } else {
    // Each loop has one put in flight and issues the next from its completion (on the
    // store's completion or flush thread). A failed put ends its loop (no unbounded
    // recursion through completions that run inside put()).
    std::vector<StoredMessage> msgs;
    for (int w = 0; w < writers; ++w) msgs.push_back(message(1024, w));
    std::vector<std::function<void()>> next(static_cast<size_t>(writers));
    std::atomic<int> ended{0};
    for (int w = 0; w < writers; ++w) {
      next[static_cast<size_t>(w)] = [&, w] {
        if (stop.load(std::memory_order_relaxed)) return void(ended.fetch_add(1));
        store->put(msgs[static_cast<size_t>(w)], [&, w](PutResult r) {
          if (!r.status.is_ok()) return void(ended.fetch_add(1));
          done.fetch_add(1, std::memory_order_relaxed);
          next[static_cast<size_t>(w)]();
        });
      };
    }
    for (auto& start : next) start();
    std::this_thread::sleep_for(std::chrono::duration<double>(a.sync_seconds));
    stop = true;
    while (ended.load() < writers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  SyncFigures f;
  f.rate = static_cast<double>(done.load()) / seconds_since(t0);
  FlushService::Stats st = store->flush_stats();
  if (st.flushes > 0) {
    f.flush_us = static_cast<double>(st.flush_ns) / 1e3 / static_cast<double>(st.flushes);
    f.acks_per_flush = static_cast<double>(st.requests_done) / static_cast<double>(st.flushes);
  }
  store->stop();
  fs::remove_all(root);
  return f;
}

struct RecoveryFigures {
  double crash_s = 0, rebuild_s = 0;
  int64_t bytes = 0;
};

// Writes recovery_mib of 1 KiB messages, then makes the store look crashed with a
// checkpoint at offset 0 (everything written "since the checkpoint") and times start():
// CRC scan of the whole log plus re-dispatch. Then again with consumequeue/ deleted.
RecoveryFigures bench_recovery(const Args& a, const std::string& root) {
  RecoveryFigures f;
  fs::remove_all(root);
  StoreOptions o = options(root, FlushDiskType::kAsync, int64_t{1} << 30);
  {
    auto store = std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, make_logger());
    must(store->start(), "store start");
    StoredMessage m = message(1024, 0);
    const int64_t target = a.recovery_mib << 20;
    for (int64_t i = 0; store->stats().max_commit_log_offset.value() < target; ++i) {
      m.queue_id = static_cast<QueueId>(i % 4);
      store->put(m, [](PutResult) {});
    }
    f.bytes = store->stats().max_commit_log_offset.value();
    store->stop();
  }
  auto crash = [&] {
    std::ofstream(root + "/abort").put('\0');
    CheckpointData cp;  // flushed = safe = 0
    must(store_checkpoint(root + "/checkpoint", cp), "checkpoint write");
  };
  crash();
  {
    auto store = std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, make_logger());
    auto t0 = Clock::now();
    must(store->start(), "store start");
    f.crash_s = seconds_since(t0);
    store->stop();
  }
  crash();
  fs::remove_all(root + "/consumequeue");
  fs::remove_all(root + "/index");
  {
    auto store = std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, make_logger());
    auto t0 = Clock::now();
    must(store->start(), "store start");
    f.rebuild_s = seconds_since(t0);
    store->stop();
  }
  fs::remove_all(root);
  return f;
}

int run(const Args& a) {
  std::printf("storage-mmap benchmark: dir=%s mib=%lld recovery_mib=%lld sync_seconds=%.1f runs=%d (medians)\n",
              a.dir.c_str(), static_cast<long long>(a.mib), static_cast<long long>(a.recovery_mib), a.sync_seconds,
              a.runs);
  auto part = [&](const char* name) { return a.only.empty() || a.only == name; };
  if (part("async") || a.only == "views" || a.only == "floor") {
    std::printf("\n== ASYNC_FLUSH append vs memcpy into a pre-faulted mapped file ==\n");
    std::printf(
        "%6s %9s %11s %8s %11s %7s %7s %7s %6s | %11s %7s %7s %7s %6s | %11s %7s %7s %7s %7s | %11s %7s %7s | %5s "
        "%11s\n",
        "body", "records", "put/s", "MB/s", "memcpy MB/s", "ratio", "ratio-c", "cpu-r", "copy%", "batch/s", "ratio",
        "ratio-c", "cpu-r", "copy%", "views64/s", "ratio", "cpu-r", "write-r", "place-r", "views1/s", "ratio", "cpu-r",
        "seg", "read msg/s");
    for (int body : a.only_body ? std::vector<int>{a.only_body} : std::vector<int>{128, 1024, 4096}) {
      std::vector<double> store_s, memcpy_s, copy_s, read_s, batch_s, batch_copy_s, cpu_r, batch_cpu_r;
      std::vector<double> views_s, views_cpu_r, view1_s, view1_cpu_r, write_r, place_r;
      AppendFigures last;
      for (int r = 0; r < a.runs; ++r) {
        last = bench_async(a, body, a.dir + "/async");
        store_s.push_back(last.store_s);
        memcpy_s.push_back(last.memcpy_s);
        copy_s.push_back(last.copy_s);
        read_s.push_back(last.read_s);
        batch_s.push_back(last.batch_s);
        batch_copy_s.push_back(last.batch_copy_s);
        cpu_r.push_back(last.store_cpu / last.memcpy_cpu);
        batch_cpu_r.push_back(last.batch_cpu / last.memcpy_cpu);
        views_s.push_back(last.views_s);
        views_cpu_r.push_back(last.views_cpu / last.memcpy_cpu);
        view1_s.push_back(last.view1_s);
        view1_cpu_r.push_back(last.view1_cpu / last.memcpy_cpu);
        write_r.push_back(last.write_cpu / last.memcpy_cpu);
        place_r.push_back(last.place_cpu / last.memcpy_cpu);
      }
      const double vs = median(views_s), v1 = median(view1_s);
      double s = median(store_s), m = median(memcpy_s), c = median(copy_s);
      double b = median(batch_s), bc = median(batch_copy_s);
      std::printf(
          "%6d %9lld %11.0f %8.1f %11.1f %6.2fx %6.2fx %6.2fx %5.0f%% | %11.0f %6.2fx %6.2fx %6.2fx %5.0f%% | %11.0f "
          "%6.2fx %6.2fx %6.2fx %6.2fx | %11.0f %6.2fx %6.2fx | %5llu %11.0f\n",
          body, static_cast<long long>(last.count), last.count / s, last.bytes / s / 1e6, last.bytes / m / 1e6, s / m,
          (s - c) / m, median(cpu_r), 100 * c / s, last.count / b, b / m, (b - bc) / m, median(batch_cpu_r),
          100 * bc / b, last.count / vs, vs / m, median(views_cpu_r), median(write_r), median(place_r), last.count / v1,
          v1 / m, median(view1_cpu_r), static_cast<unsigned long long>(last.put_path_creates),
          last.read_count / median(read_s));
    }
    std::printf(
        "(put/s: single put() calls; batch/s: put_batch() of %d messages per call (one queue per call).\n"
        " ratio = store time / memcpy time of the same encoded bytes into a pre-faulted mapped file;\n"
        " ratio-c = the same without the caller copying the StoredMessage(s) it passes by value (measured\n"
        " separately: copy%% of the store time); cpu-r = store / memcpy in thread CPU time (caller's copy\n"
        " included), not inflated by other processes taking the core; views64/s, views1/s: put_views() of %d\n"
        " and of 1 message per call, viewing the caller's bytes (properties pre-encoded): no copy by the caller;\n"
        " write-r = write_record alone (the record's bytes and CRC from ready plans, nothing else) / memcpy\n"
        " in thread CPU time: the part of any append's ratio that a CRC'd record costs; place-r = the same\n"
        " pieces (header, body, topic, properties) put in place without the CRC / memcpy of the record;\n"
        " seg = segments the put paths created)\n",
        kBatch, kBatch);
  }
  if (part("sync")) {
    std::printf("\n== SYNC_FLUSH group commit, 1 KiB bodies, writers: %s ==\n",
                a.sync_writers == "loops" ? "put loops (next put from the last one's completion)"
                                          : "threads blocking on each put");
    std::vector<double> rates;
    for (int w : {1, 16, 64}) {
      std::vector<double> v, fl, acks;
      for (int r = 0; r < a.runs; ++r) {
        SyncFigures f = bench_sync(a, w, a.dir + "/sync");
        v.push_back(f.rate);
        fl.push_back(f.flush_us);
        acks.push_back(f.acks_per_flush);
      }
      rates.push_back(median(v));
      std::printf("writers=%-3d appends/s=%10.0f MB/s=%8.1f msync=%7.1f us puts/msync=%5.1f\n", w, rates.back(),
                  rates.back() * 1024 / 1e6, median(fl), median(acks));
    }
    std::printf("group-commit ratio 64 writers / 1 writer = %.1fx\n", rates[2] / rates[0]);
  }
  if (part("recovery")) {
    std::printf("\n== crash recovery, %lld MiB written since the checkpoint ==\n",
                static_cast<long long>(a.recovery_mib));
    std::vector<double> crash_s, rebuild_s;
    int64_t bytes = 0;
    for (int r = 0; r < a.runs; ++r) {
      RecoveryFigures f = bench_recovery(a, a.dir + "/recovery");
      crash_s.push_back(f.crash_s);
      rebuild_s.push_back(f.rebuild_s);
      bytes = f.bytes;
    }
    std::printf("crash recovery (CRC scan + re-dispatch over intact queues): %.2f s (%.0f MB/s)\n", median(crash_s),
                bytes / median(crash_s) / 1e6);
    std::printf("crash recovery with consumequeue/ and index/ deleted (full rebuild): %.2f s (%.0f MB/s)\n",
                median(rebuild_s), bytes / median(rebuild_s) / 1e6);
  }
  return 0;
}

}  // namespace
}  // namespace mq::storage_mmap

int main(int argc, char** argv) {
  // Keep freed heap memory: otherwise glibc returns the top of the heap after every batch
  // of 64 x 4 KiB messages is freed and the next batch page-faults it back in (a cost of
  // this loop, not of the store; a long-running broker's heap does not shrink per call).
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mq::storage_mmap::Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") {
      a.dir = v;
    } else if (k == "--mib") {
      a.mib = std::stoll(v);
    } else if (k == "--recovery-mib") {
      a.recovery_mib = std::stoll(v);
    } else if (k == "--sync-seconds") {
      a.sync_seconds = std::stod(v);
    } else if (k == "--body") {
      a.only_body = std::stoi(v);
    } else if (k == "--only") {
      a.only = v;
    } else if (k == "--pwrite") {
      mq::storage_mmap::g_append_with_pwrite = v == "1" || v == "true" ? 1 : 0;
    } else if (k == "--sync-writers") {
      if (v != "loops" && v != "threads") {
        std::fprintf(stderr, "--sync-writers %s: expected loops or threads\n", v.c_str());
        return 2;
      }
      a.sync_writers = v;
    } else if (k == "--runs") {
      a.runs = std::stoi(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  bool own_dir = a.dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/storage_mmap_bench.XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    a.dir = tmpl;
  }
  int rc = mq::storage_mmap::run(a);
  if (own_dir) std::filesystem::remove_all(a.dir);
  return rc;
}
