// Failure handling: injected msync failure (read-only, nothing falsely acknowledged),
// injected full disk (puts refused, then resumed), retention by age / disk pressure,
// reads of a segment being deleted, and segment pre-allocation off the put path.
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "clean_service.h"
#include "fake_host.h"
#include "mapped_file.h"
#include "mapped_file_queue.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::FailingPwrites;
using testing::get_all;
using testing::make_message;
using testing::make_store;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

namespace fs = std::filesystem;

std::atomic<bool> g_fail_msync{false};
std::atomic<int> g_failed_msyncs{0};

int failing_msync(void* addr, size_t len, int flags) {
  if (g_fail_msync.load()) {
    g_failed_msyncs.fetch_add(1);
    errno = EIO;
    return -1;
  }
  return ::msync(addr, len, flags);
}

// Installs the msync seam for one test and removes it afterwards.
struct MsyncFault {
  MsyncFault() {
    g_fail_msync = false;
    g_failed_msyncs = 0;
    set_msync_for_testing(&failing_msync);
  }
  ~MsyncFault() { set_msync_for_testing(nullptr); }
};

struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger =
      std::make_shared<spdlog::logger>("storage-mmap", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
};

TEST(FaultTest, MsyncFailureUnderSyncFlushMakesStoreReadOnlyAndAcknowledgesNothing) {
  MsyncFault fault;
  TempDir dir;
  CapturedLog log;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  auto store = std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, log.logger);
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(put_wait(*store, make_message("Durable", 0, "before")).status);

  g_fail_msync = true;
  constexpr int kThreads = 8, kPer = 10;
  std::vector<std::future<std::vector<PutResult>>> futures;
  for (int t = 0; t < kThreads; ++t) {
    futures.push_back(std::async(std::launch::async, [&store, t] {
      std::vector<PutResult> rs;
      for (int i = 0; i < kPer; ++i)
        rs.push_back(put_wait(*store, make_message("Durable", t % 4, "during-" + std::to_string(i))));
      return rs;
    }));
  }
  int timeouts = 0, refused = 0;
  for (auto& f : futures) {
    for (const PutResult& r : f.get()) {
      ASSERT_FALSE(r.status.is_ok()) << "a put was acknowledged although no msync succeeded";
      if (r.status.code() == Code::kFlushDiskTimeout) {
        ++timeouts;
        EXPECT_NE(r.status.message().find("not flushed"), std::string::npos) << r.status.message();
      } else {
        ASSERT_EQ(r.status.code(), Code::kServiceNotAvailable) << r.status.to_string();
        EXPECT_NE(r.status.message().find("read-only"), std::string::npos) << r.status.message();
        ++refused;
      }
    }
  }
  EXPECT_GT(timeouts, 0);
  EXPECT_EQ(timeouts + refused, kThreads * kPer);
  EXPECT_GT(g_failed_msyncs.load(), 0);

  StoreStats st = store->stats();
  EXPECT_TRUE(st.read_only);
  EXPECT_NE(st.read_only_reason.find("msync"), std::string::npos) << st.read_only_reason;
  EXPECT_NE(st.read_only_reason.find("Input/output error"), std::string::npos) << st.read_only_reason;
  EXPECT_NE(st.read_only_reason.find(dir.path() + "/commitlog/"), std::string::npos) << st.read_only_reason;
  // Even with the disk healthy again, the store stays read-only until restarted.
  g_fail_msync = false;
  PutResult later = put_wait(*store, make_message("Durable", 0, "after"));
  EXPECT_EQ(later.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(later.status.message().find("read-only: msync"), std::string::npos) << later.status.message();
  log.logger->flush();
  EXPECT_NE(log.out.str().find("read-only and refuses puts"), std::string::npos) << log.out.str();
  // Reads still work.
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(get_all(*store, "Durable", 0, 0, 5).messages.size(), 5u);
  store->stop();
  // A store stopped read-only keeps `abort`: the next start recovers as after a crash.
  EXPECT_TRUE(fs::exists(dir.path() + "/abort"));
}

// SYNC_FLUSH with appendWithPwrite: the flush thread writes the puts' records before its
// msync. A failed write turns the store read-only and acknowledges none of them.
TEST(FaultTest, WriteFailureOfDeferredPutsMakesStoreReadOnlyAndAcknowledgesNothing) {
  TempDir dir;
  CapturedLog log;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  o.append_with_pwrite = true;
  auto store = std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, log.logger);
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(put_wait(*store, make_message("Durable", 0, "before")).status);
  {
    FailingPwrites failing;
    std::vector<std::future<PutResult>> futures;
    for (int t = 0; t < 8; ++t)
      futures.push_back(std::async(std::launch::async, [&store, t] {
        return put_wait(*store, make_message("Durable", 0, "x" + std::to_string(t)));
      }));
    for (auto& f : futures) {
      PutResult r = f.get();
      ASSERT_FALSE(r.status.is_ok()) << "a put was acknowledged although its write failed";
      EXPECT_TRUE(r.status.code() == Code::kFlushDiskTimeout || r.status.code() == Code::kServiceNotAvailable)
          << r.status.to_string();
    }
  }
  StoreStats st = store->stats();
  EXPECT_TRUE(st.read_only);
  EXPECT_NE(st.read_only_reason.find("write of " + dir.path() + "/commitlog/"), std::string::npos)
      << st.read_only_reason;
  EXPECT_NE(st.read_only_reason.find("Input/output error"), std::string::npos) << st.read_only_reason;
  EXPECT_EQ(put_wait(*store, make_message("Durable", 0, "after")).status.code(), Code::kServiceNotAvailable);
  ASSERT_TRUE(store->wait_dispatched(5s));
  EXPECT_EQ(get_all(*store, "Durable", 0, 0, 100).messages.size(), 5u);  // only the acknowledged ones
  store->stop();
  EXPECT_TRUE(fs::exists(dir.path() + "/abort"));
}

TEST(FaultTest, MsyncFailureUnderAsyncFlushTurnsReadOnly) {
  MsyncFault fault;
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_least_pages = 0;
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  g_fail_msync = true;
  ASSERT_TRUE(put_wait(*store, make_message("Async", 0, "x")).status);  // ASYNC acks on append
  for (int i = 0; i < 200 && !store->stats().read_only; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(store->stats().read_only);
  PutResult r = put_wait(*store, make_message("Async", 0, "y"));
  EXPECT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("msync"), std::string::npos) << r.status.message();
  g_fail_msync = false;
  store->stop();
}

TEST(FaultTest, FullDiskRefusesPutsNamingPathAndUsageThenResumes) {
  TempDir dir;
  std::atomic<double> usage{95.0};
  StoreOptions o = small_options(dir.path());
  o.disk_usage = [&usage](const std::string&) -> Result<double> { return usage.load(); };
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  // Full from the start: the first put is already refused.
  PutResult r = put_wait(*store, make_message("Full", 0, "x"));
  ASSERT_EQ(r.status.code(), Code::kServiceNotAvailable);
  EXPECT_NE(r.status.message().find("disk full"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find(dir.path() + "/commitlog"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("95.0%"), std::string::npos) << r.status.message();
  EXPECT_TRUE(store->disk_full());
  EXPECT_FALSE(store->stats().read_only);  // not a failure of the store: it resumes by itself

  usage = 60.0;
  (void)store->clean_now(std::chrono::system_clock::now());
  EXPECT_FALSE(store->disk_full());
  ASSERT_TRUE(put_wait(*store, make_message("Full", 0, "y")).status);
  usage = 91.0;
  (void)store->clean_now(std::chrono::system_clock::now());
  EXPECT_EQ(put_wait(*store, make_message("Full", 0, "z")).status.code(), Code::kServiceNotAvailable);
  usage = 89.0;  // below the warning level again
  (void)store->clean_now(std::chrono::system_clock::now());
  ASSERT_TRUE(put_wait(*store, make_message("Full", 0, "w")).status);
  store->stop();
}

// A wall-clock time today at `hour` local time.
std::chrono::system_clock::time_point at_hour(int hour) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  tm.tm_hour = hour;
  tm.tm_min = 30;
  return std::chrono::system_clock::from_time_t(std::mktime(&tm));
}

void age_file(const std::string& path, std::chrono::hours age) {
  struct timeval tv[2];
  std::time_t t = std::time(nullptr) - static_cast<std::time_t>(age.count() * 3600);
  tv[0].tv_sec = tv[1].tv_sec = t;
  tv[0].tv_usec = tv[1].tv_usec = 0;
  ASSERT_EQ(::utimes(path.c_str(), tv), 0) << path;
}

std::string seg_path(const std::string& root, int i) {
  return root + "/commitlog/" + offset_to_file_name(int64_t{i} * 64 * 1024);
}

TEST(FaultTest, RetentionDeletesExpiredSegmentsAtDeleteWhenAndUnderDiskPressure) {
  TempDir dir;
  std::atomic<double> usage{50.0};
  StoreOptions o = small_options(dir.path());
  o.flush_least_pages = 0;
  o.max_index_num = 50;  // many index files to trim
  o.delete_when = "04";
  o.disk_usage = [&usage](const std::string&) -> Result<double> { return usage.load(); };
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 700; ++i) {  // ~1.1 KiB each: ~12 segments
    StoredMessage m = make_message("Ret", i % 2, "r" + std::to_string(i) + std::string(1000, 'z'));
    m.set_property(prop::kKeys, "k" + std::to_string(i));
    puts.push_back(put_wait(*store, m));
    ASSERT_TRUE(puts.back().status);
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  for (int i = 0; i < 500 && store->stats().flushed_commit_log_offset < store->stats().max_commit_log_offset; ++i)
    std::this_thread::sleep_for(10ms);
  // Both queues' second files (350 units each, 200 per file) written out by the dispatcher.
  for (const char* q : {"/consumequeue/Ret/0/", "/consumequeue/Ret/1/"})
    for (int i = 0; i < 300 && !fs::exists(dir.path() + q + offset_to_file_name(200 * 20)); ++i)
      std::this_thread::sleep_for(10ms);
  const size_t index_files_before = std::distance(fs::directory_iterator(dir.path() + "/index"), {});
  for (int i = 0; i < 3; ++i) age_file(seg_path(dir.path(), i), std::chrono::hours(100));

  // Not the delete hour, disk fine: nothing goes although three are expired.
  CleanOutcome c = store->clean_now(at_hour(12));
  EXPECT_EQ(c.segments_deleted, 0);
  // At 04:30 the three expired segments go, not the fourth (recent).
  c = store->clean_now(at_hour(4));
  EXPECT_EQ(c.segments_deleted, 3);
  EXPECT_FALSE(fs::exists(seg_path(dir.path(), 2)));
  EXPECT_TRUE(fs::exists(seg_path(dir.path(), 3)));
  EXPECT_EQ(store->stats().min_commit_log_offset.value(), 3 * 64 * 1024);
  EXPECT_GT(c.index_files_deleted, 0);
  EXPECT_LT(std::distance(fs::directory_iterator(dir.path() + "/index"), {}), index_files_before);
  // Consume queues follow: the first message still served is the first in segment 3.
  int64_t min0 = store->min_offset("Ret", 0).value();
  EXPECT_GT(min0, 0);
  GetResult g = get_all(*store, "Ret", 0, 0, 1);
  EXPECT_EQ(g.status, GetStatus::kOffsetTooSmall);
  g = get_all(*store, "Ret", 0, min0, 1);
  ASSERT_EQ(g.status, GetStatus::kFound);
  EXPECT_GE(g.messages[0].commit_log_offset.value(), 3 * 64 * 1024);
  EXPECT_FALSE(store->read_at(puts[0].commit_log_offset));
  EXPECT_TRUE(store->query_by_key("Ret", "k0", 5, 0, -1).empty());
  EXPECT_EQ(store->query_by_key("Ret", "k699", 5, 0, -1).size(), 1u);

  // Disk above diskMaxUsedSpaceRatio: expired segments go at any hour.
  age_file(seg_path(dir.path(), 3), std::chrono::hours(100));
  usage = 80.0;
  c = store->clean_now(at_hour(12));
  EXPECT_EQ(c.segments_deleted, 1);
  // Above diskSpaceCleanForciblyRatio: the oldest go even unexpired, never the active one.
  const size_t cq_files_before = std::distance(fs::directory_iterator(dir.path() + "/consumequeue/Ret/0"), {});
  usage = 88.0;
  c = store->clean_now(at_hour(12));
  EXPECT_GT(c.segments_deleted, 0);
  EXPECT_GT(c.cq_files_deleted, 0);
  EXPECT_LT(std::distance(fs::directory_iterator(dir.path() + "/consumequeue/Ret/0"), {}), cq_files_before);
  const int64_t write_pos = store->stats().max_commit_log_offset.value();
  const int64_t active_base = write_pos / (64 * 1024) * 64 * 1024;
  EXPECT_EQ(store->stats().min_commit_log_offset.value(), active_base);  // the active segment stays
  EXPECT_TRUE(fs::exists(dir.path() + "/commitlog/" + offset_to_file_name(active_base)));
  g = get_all(*store, "Ret", 1, store->min_offset("Ret", 1).value(), 1);
  ASSERT_EQ(g.status, GetStatus::kFound);
  EXPECT_GE(g.messages[0].commit_log_offset.value(), active_base);
  usage = 50.0;
  ASSERT_TRUE(put_wait(*store, make_message("Ret", 0, "still-writable")).status);
  store->stop();
}

TEST(FaultTest, ReaderKeepsADeletedSegmentMappedUntilItDropsIt) {
  TempDir dir;
  std::atomic<double> usage{50.0};
  StoreOptions o = small_options(dir.path());
  o.flush_least_pages = 0;
  o.disk_usage = [&usage](const std::string&) -> Result<double> { return usage.load(); };
  auto store = make_store(o);
  ASSERT_TRUE(store->start());
  std::vector<PutResult> puts;
  for (int i = 0; i < 200; ++i)
    puts.push_back(put_wait(*store, make_message("Ref", 0, std::string(1000, 'a' + i % 26))));
  ASSERT_TRUE(store->wait_dispatched(5s));
  for (int i = 0; i < 500 && store->stats().flushed_commit_log_offset < store->stats().max_commit_log_offset; ++i)
    std::this_thread::sleep_for(10ms);
  auto ref = store->commit_log().locate(puts[3].commit_log_offset.value());
  ASSERT_TRUE(ref);
  const std::string path = ref->file->path();
  usage = 88.0;  // forcibly: segment 0 goes while we hold a reference into it
  ASSERT_GT(store->clean_now(std::chrono::system_clock::now()).segments_deleted, 0);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(store->read_at(puts[3].commit_log_offset));
  // The bytes behind the reference are still mapped and intact.
  RecordCheck c = check_record(ref->data, ref->to_segment_end, puts[3].commit_log_offset.value(), true);
  ASSERT_EQ(c.kind, RecordKind::kRecord) << c.reason;
  EXPECT_EQ(decode_record(ref->data).body, std::string(1000, 'a' + 3));
  store->stop();
}

TEST(FaultTest, NextSegmentIsPreallocatedOffThePutPath) {
  TempDir dir;
  auto store = make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  auto wait_exists = [](const std::string& p) {
    for (int i = 0; i < 500 && !fs::exists(p); ++i) std::this_thread::sleep_for(10ms);
    return fs::exists(p);
  };
  ASSERT_TRUE(wait_exists(seg_path(dir.path(), 0)));  // the first segment, before any put
  int seg = 0;
  for (int i = 0; i < 400; ++i) {
    // Before writing into segment k+1, the allocator has created it.
    ASSERT_TRUE(wait_exists(seg_path(dir.path(), seg + 1))) << seg + 1;
    PutResult r = put_wait(*store, make_message("Alloc", 0, std::string(900, 'p')));
    ASSERT_TRUE(r.status);
    seg = static_cast<int>(r.commit_log_offset.value() / (64 * 1024));
  }
  EXPECT_GE(seg, 4);
  EXPECT_EQ(store->segments_created_on_put_path(), 0u);
  store->stop();
}

TEST(FaultTest, ConcurrentCreatorsOfOneSegmentMapItWithItsFullSize) {
  // The allocator and the put path may both want the same next segment; a second opener
  // must never map a file another thread is still growing with fallocate.
  for (int round = 0; round < 4; ++round) {
    TempDir dir;
    MappedFileQueue q(dir.path() + "/seg", int64_t{256} << 20);
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto create = [&q, start] {
      start.wait();
      auto f = q.get_or_create(0);
      return f ? (*f)->size() : int64_t{-1};
    };
    auto a = std::async(std::launch::async, create);
    auto b = std::async(std::launch::async, create);
    go.set_value();
    EXPECT_EQ(a.get(), int64_t{256} << 20);
    EXPECT_EQ(b.get(), int64_t{256} << 20);
    EXPECT_EQ(q.files().size(), 1u);
    EXPECT_EQ(q.files_end(), int64_t{256} << 20);
  }
}

}  // namespace
}  // namespace mq::storage_mmap

// Disk use is computed as df's Use%: used / (used + available). A volume that reports more
// capacity than it can deliver (thin provisioning, root-reserved blocks) must not look full.
TEST(FaultTest, DiskUsageIsUsedOverUsedPlusAvailableLikeDf) {
  // 252 units reported, 61 used, 36 available to us: df says 63%; 1 - avail/total would say 86%
  // and trigger forced deletion of unexpired segments.
  EXPECT_NEAR(mq::storage_mmap::usage_percent(252, 252 - 61, 36), 100.0 * 61 / 97, 1e-9);
  EXPECT_DOUBLE_EQ(mq::storage_mmap::usage_percent(100, 100, 100), 0.0);
  EXPECT_DOUBLE_EQ(mq::storage_mmap::usage_percent(100, 0, 0), 100.0);
  EXPECT_DOUBLE_EQ(mq::storage_mmap::usage_percent(0, 0, 0), 0.0);
  // Root-reserved blocks: 10 free but 0 available to us is full.
  EXPECT_DOUBLE_EQ(mq::storage_mmap::usage_percent(100, 10, 0), 100.0);
}
