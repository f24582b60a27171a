// Review fixes: fsync of new files, their directories and unlinks (a consume queue's by its
// flush); consume-queue ends found past holes; reads bounded by the flushed position once
// read-only; no segment creation under the put lock; bounded get(); sealed key-index flush
// failures force a rebuild.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "consume_queue.h"
#include "durable_fs.h"
#include "fake_host.h"
#include "index_service.h"
#include "mapped_file.h"
#include "mapped_file_queue.h"
#include "mmap_store.h"
#include "record_codec.h"
#include "store_lock.h"

namespace mq::storage_mmap {
namespace {

using namespace std::chrono_literals;
using testing::get_all;
using testing::make_message;
using testing::put_wait;
using testing::small_options;
using testing::TempDir;

namespace fs = std::filesystem;

std::string fd_path(int fd) {
  char buf[PATH_MAX] = {};
  ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Records every fsync'ed path; optionally fails or blocks the ones matching a substring.
struct FsyncSpy {
  static inline std::mutex mu;
  static inline std::condition_variable cv;
  static inline std::vector<std::string> paths;  // guarded by mu
  static inline std::string fail_if_contains;    // guarded by mu
  static inline std::string block_if_contains;   // guarded by mu
  static inline bool blocked_someone = false;    // guarded by mu

  static int hook(int fd) {
    std::string p = fd_path(fd);
    std::unique_lock lock(mu);
    paths.push_back(p);
    if (!fail_if_contains.empty() && p.find(fail_if_contains) != std::string::npos) {
      errno = EIO;
      return -1;
    }
    if (!block_if_contains.empty() && p.find(block_if_contains) != std::string::npos && !fs::is_directory(p)) {
      blocked_someone = true;
      cv.notify_all();
      cv.wait(lock, [] { return block_if_contains.empty(); });
    }
    return ::fsync(fd);
  }
  FsyncSpy() {
    std::lock_guard lock(mu);
    paths.clear();
    fail_if_contains.clear();
    block_if_contains.clear();
    blocked_someone = false;
    set_fsync_for_testing(&hook);
  }
  ~FsyncSpy() {
    unblock();
    set_fsync_for_testing(nullptr);
  }
  static void unblock() {
    {
      std::lock_guard lock(mu);
      block_if_contains.clear();
    }
    cv.notify_all();
  }
  static bool saw(const std::string& path) {
    std::lock_guard lock(mu);
    return std::find(paths.begin(), paths.end(), path) != paths.end();
  }
  static void clear() {
    std::lock_guard lock(mu);
    paths.clear();
  }
};

struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger =
      std::make_shared<spdlog::logger>("storage-mmap", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  CapturedLog() { logger->set_level(spdlog::level::info); }
  std::string text() {
    logger->flush();
    return out.str();
  }
};

std::shared_ptr<MmapStore> make_logged_store(const StoreOptions& o, CapturedLog& log) {
  return std::make_shared<MmapStore>(o, HostAddress{0x7F000001, 10911}, log.logger);
}

TEST(DurabilityTest, NewFilesTheirDirectoriesAndUnlinksAreFsynced) {
  FsyncSpy spy;
  TempDir dir;
  const std::string d = dir.path() + "/a/b";
  MappedFileQueue q(d, 4096);
  ASSERT_TRUE(q.load());
  EXPECT_TRUE(FsyncSpy::saw(dir.path())) << "new directory a not made durable in its parent";
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/a")) << "new directory b not made durable in its parent";
  for (int64_t base : {0, 4096, 8192}) ASSERT_TRUE(q.get_or_create(base));
  EXPECT_TRUE(FsyncSpy::saw(d + "/" + offset_to_file_name(0)));
  EXPECT_TRUE(FsyncSpy::saw(d + "/" + offset_to_file_name(8192)));
  EXPECT_TRUE(FsyncSpy::saw(d));

  FsyncSpy::clear();
  Status del;
  EXPECT_EQ(q.delete_front([](const MappedFile&) { return true; }, 2, 1, &del), 1);
  EXPECT_TRUE(del) << del.to_string();
  EXPECT_TRUE(FsyncSpy::saw(d)) << "directory not fsynced after delete_front";

  FsyncSpy::clear();
  ASSERT_TRUE(q.truncate(4096 + 100));  // unlinks the file at 8192
  EXPECT_FALSE(fs::exists(d + "/" + offset_to_file_name(8192)));
  EXPECT_TRUE(FsyncSpy::saw(d)) << "directory not fsynced after truncate";

  FsyncSpy::clear();
  auto crashed = create_abort_file(dir.path());
  ASSERT_TRUE(crashed);
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/abort"));
  EXPECT_TRUE(FsyncSpy::saw(dir.path())) << "abort file's directory not fsynced";
  FsyncSpy::clear();
  ASSERT_TRUE(remove_abort_file(dir.path()));
  EXPECT_TRUE(FsyncSpy::saw(dir.path())) << "directory not fsynced after removing abort";
}

TEST(DurabilityTest, FailedFsyncOfANewFileFailsItsCreationNamingIt) {
  FsyncSpy spy;
  TempDir dir;
  MappedFileQueue q(dir.path() + "/q", 4096);
  ASSERT_TRUE(q.load());
  {
    std::lock_guard lock(FsyncSpy::mu);
    FsyncSpy::fail_if_contains = offset_to_file_name(0);
  }
  auto f = q.get_or_create(0);
  ASSERT_FALSE(f);
  EXPECT_NE(f.status().message().find("fsync of " + dir.path() + "/q/" + offset_to_file_name(0)), std::string::npos)
      << f.status().message();
  EXPECT_FALSE(fs::exists(dir.path() + "/q/" + offset_to_file_name(0)));
  {
    std::lock_guard lock(FsyncSpy::mu);
    FsyncSpy::fail_if_contains = dir.path();  // the directory (and anything in it)
  }
  auto abort = create_abort_file(dir.path());
  ASSERT_FALSE(abort);
  EXPECT_NE(abort.status().message().find("fsync of"), std::string::npos) << abort.status().message();
}

TEST(DurabilityTest, StoreFsyncsNewConsumeQueueFilesAndDirectories) {
  FsyncSpy spy;
  TempDir dir;
  auto store = testing::make_store(small_options(dir.path()));
  ASSERT_TRUE(store->start());
  ASSERT_TRUE(put_wait(*store, make_message("Fresh", 3, "x")).status);
  ASSERT_TRUE(store->wait_dispatched(5s));
  store->stop();  // its last flush, if no periodic one came first, makes the queue's files durable
  const std::string cq = dir.path() + "/consumequeue/Fresh/3";
  EXPECT_TRUE(FsyncSpy::saw(cq + "/" + offset_to_file_name(0)));
  EXPECT_TRUE(FsyncSpy::saw(cq));
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/consumequeue/Fresh"));
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/commitlog/" + offset_to_file_name(0)));
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/commitlog"));
}

// The dispatcher makes a queue's files without an fsync (three per new queue held it for
// seconds when a thousand queues appeared at once); the queue's flush, which comes before
// any checkpoint claims its units, makes them durable first, and fails if it cannot.
TEST(DurabilityTest, NewConsumeQueueFilesAreMadeDurableByTheirFlushNotByTheWriter) {
  FsyncSpy spy;
  TempDir dir;
  const std::string d = dir.path() + "/T/0";
  const std::string file = d + "/" + offset_to_file_name(0);
  ConsumeQueue cq("T", 0, d, 8 * kCqUnitSize);
  for (int64_t q = 0; q < 3; ++q) ASSERT_TRUE(cq.put_unit(q, CqUnit{100 * q, 90, 7}));
  ASSERT_TRUE(cq.commit());
  ASSERT_TRUE(cq.write_out());
  ASSERT_TRUE(fs::exists(file));
  EXPECT_FALSE(FsyncSpy::saw(file)) << "the writer fsynced the new file";
  EXPECT_FALSE(FsyncSpy::saw(d)) << "the writer fsynced the new file's directory";
  EXPECT_FALSE(FsyncSpy::saw(dir.path() + "/T")) << "the writer fsynced a new directory's parent";

  {
    std::lock_guard lock(FsyncSpy::mu);
    FsyncSpy::fail_if_contains = offset_to_file_name(0);
  }
  Status failed = cq.flush();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.message().find("fsync of " + file), std::string::npos) << failed.message();

  {
    std::lock_guard lock(FsyncSpy::mu);
    FsyncSpy::fail_if_contains.clear();
  }
  FsyncSpy::clear();
  ASSERT_TRUE(cq.flush());  // what failed is still pending
  EXPECT_TRUE(FsyncSpy::saw(file));
  EXPECT_TRUE(FsyncSpy::saw(d)) << "the new file's name not made durable";
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/T")) << "new directory 0 not made durable in its parent";
  EXPECT_TRUE(FsyncSpy::saw(dir.path())) << "new directory T not made durable in its parent";

  FsyncSpy::clear();
  ASSERT_TRUE(cq.put_unit(3, CqUnit{300, 90, 7}));
  ASSERT_TRUE(cq.commit());
  ASSERT_TRUE(cq.write_out());
  ASSERT_TRUE(cq.flush());
  EXPECT_FALSE(FsyncSpy::saw(file)) << "a file already made durable was fsynced again";
  EXPECT_FALSE(FsyncSpy::saw(d));
}

// Consume queues are flushed (and new queue files made durable) on their own thread: an
// fsync hanging there holds up neither SYNC_FLUSH group commit nor other puts.
TEST(DurabilityTest, AHangingConsumeQueueFsyncDoesNotHoldUpGroupCommit) {
  FsyncSpy spy;
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kSync;
  o.flush_consume_queue_interval_ms = 20;
  {
    std::lock_guard lock(FsyncSpy::mu);
    FsyncSpy::block_if_contains = dir.path() + "/consumequeue/Slow/";
  }
  auto store = testing::make_store(o);
  ASSERT_TRUE(store->start());
  ASSERT_TRUE(put_wait(*store, make_message("Slow", 0, "a")).status);
  {
    std::unique_lock lock(FsyncSpy::mu);  // the queue thread is in the new file's fsync
    ASSERT_TRUE(FsyncSpy::cv.wait_for(lock, 10s, [] { return FsyncSpy::blocked_someone; }));
  }
  auto fast = std::async(std::launch::async, [&] { return put_wait(*store, make_message("Fast", 0, "b")); });
  const bool fast_done = fast.wait_for(3s) == std::future_status::ready;
  FsyncSpy::unblock();
  ASSERT_TRUE(fast_done) << "a SYNC_FLUSH put waited for a consume queue's fsync";
  PutResult r = fast.get();
  EXPECT_TRUE(r.status) << r.status.to_string();
  store->stop();
  EXPECT_TRUE(FsyncSpy::saw(dir.path() + "/consumequeue/Slow/0/" + offset_to_file_name(0)));
}

// Raw records for `topic`/0 with queue offsets first_qoff.. at commit-log offset 0 on.
std::string raw_records(const std::string& topic, int64_t first_qoff, int n) {
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    EncodedRecord rec;
    encode_record(make_message(topic, 0, "hole-" + std::to_string(i)), HostAddress{0x7F000001, 10911}, &rec);
    finalize_record(rec.bytes.data(), rec.tail_crc, rec.tail_shift, first_qoff + i, static_cast<int64_t>(bytes.size()),
                    1700000000000 + i);
    bytes += rec.bytes;
  }
  return bytes;
}

TEST(DurabilityTest, QueueFirstSeenInTheMiddleKeepsItsEndAcrossRestarts) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  std::string old_catalog;
  {
    auto store = testing::make_store(o);
    ASSERT_TRUE(store->start());
    std::ifstream in(dir.path() + "/queues.catalog", std::ios::binary);
    old_catalog.assign(std::istreambuf_iterator<char>(in), {});
    // A queue whose first record has queue offset 5: units 0..4 are holes.
    ASSERT_TRUE(store->append_raw(CommitLogOffset(0), raw_records("Holey", 5, 3)));
    ASSERT_TRUE(store->wait_dispatched(5s));
    EXPECT_EQ(store->max_offset("Holey", 0).value(), 8);
    store->stop();
  }
  {
    CapturedLog log;
    auto store = make_logged_store(o, log);
    ASSERT_TRUE(store->start());
    EXPECT_EQ(store->max_offset("Holey", 0).value(), 8);
    EXPECT_EQ(get_all(*store, "Holey", 0, 5).messages.size(), 3u);
    EXPECT_EQ(log.text().find("rebuilding"), std::string::npos) << "clean restart rebuilt the queues:\n" << log.text();
    store->stop();
  }
  // Crash with a catalog from before the queue existed: offsets must continue after 7.
  {
    std::ofstream out(dir.path() + "/queues.catalog", std::ios::binary | std::ios::trunc);
    out << old_catalog;
  }
  { std::ofstream(dir.path() + "/abort").flush(); }
  auto store = testing::make_store(o);
  ASSERT_TRUE(store->start());
  EXPECT_EQ(store->max_offset("Holey", 0).value(), 8);
  PutResult r = put_wait(*store, make_message("Holey", 0, "after-crash"));
  ASSERT_TRUE(r.status) << r.status.to_string();
  EXPECT_EQ(r.queue_offset.value(), 8) << "a queue offset was reused";
  ASSERT_TRUE(store->wait_dispatched(5s));
  GetResult g = get_all(*store, "Holey", 0, 5);
  ASSERT_EQ(g.messages.size(), 4u);
  EXPECT_EQ(g.messages[0].body, "hole-0");
  EXPECT_EQ(g.messages[3].body, "after-crash");
  store->stop();
}

std::atomic<bool> g_fail_msync{false};
int failing_msync(void* addr, size_t len, int flags) {
  if (g_fail_msync.load()) {
    errno = EIO;
    return -1;
  }
  return ::msync(addr, len, flags);
}
struct MsyncFault {
  MsyncFault() {
    g_fail_msync = false;
    set_msync_for_testing(&failing_msync);
  }
  ~MsyncFault() { set_msync_for_testing(nullptr); }
};

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

TEST(DurabilityTest, ReadOnlyStoreServesOnlyFlushedBytes) {
  MsyncFault fault;
  TempDir dir;
  CapturedLog log;
  StoreOptions o = small_options(dir.path());
  o.flush_disk_type = FlushDiskType::kAsync;
  o.flush_thorough_interval_ms = 50;  // flush small amounts too
  auto store = make_logged_store(o, log);
  ASSERT_TRUE(store->start());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(put_wait(*store, make_message("Ro", 0, "flushed")).status);
  ASSERT_TRUE(eventually([&] {
    return store->stats().flushed_commit_log_offset.value() == store->stats().max_commit_log_offset.value();
  }));
  const int64_t flushed = store->stats().flushed_commit_log_offset.value();
  g_fail_msync = true;
  std::vector<PutResult> later;
  for (int i = 0; i < 3; ++i) later.push_back(put_wait(*store, make_message("Ro", 0, "not-flushed")));
  for (const auto& r : later) ASSERT_TRUE(r.status) << r.status.to_string();  // ASYNC_FLUSH acks at once
  ASSERT_TRUE(eventually([&] { return store->stats().read_only; }));
  EXPECT_EQ(store->stats().flushed_commit_log_offset.value(), flushed);
  ASSERT_TRUE(store->wait_dispatched(5s));

  GetResult g = get_all(*store, "Ro", 0, 0, 100);
  EXPECT_EQ(g.messages.size(), 5u);
  for (const auto& m : g.messages) EXPECT_EQ(m.body, "flushed");
  EXPECT_EQ(g.next_begin_offset.value(), 5);
  auto unflushed = store->read_at(later[0].commit_log_offset);
  EXPECT_FALSE(unflushed) << "served a record that may not be on disk";
  auto raw = store->read_raw(CommitLogOffset(0), 1 << 20);
  ASSERT_TRUE(raw) << raw.status().to_string();
  EXPECT_EQ(raw->next_offset.value(), flushed);
  EXPECT_EQ(static_cast<int64_t>(raw->bytes.size()), flushed);
  EXPECT_LE(store->stats().dispatched_commit_log_offset.value(), store->stats().max_commit_log_offset.value());
  store->stop();
}

TEST(DurabilityTest, SegmentCreationOnThePutPathDoesNotHoldThePutLock) {
  FsyncSpy spy;
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  const int64_t seg = o.commit_log_segment_size;
  auto store = testing::make_store(o);
  ASSERT_TRUE(store->start());
  const std::string spare = dir.path() + "/commitlog/" + offset_to_file_name(seg);
  ASSERT_TRUE(eventually([&] { return fs::exists(spare); }));
  {
    std::lock_guard lock(FsyncSpy::mu);  // new commit-log segments now hang in their fsync
    FsyncSpy::block_if_contains = dir.path() + "/commitlog/";
  }
  const std::string kilo(1000, 'k');
  const auto& log = store->commit_log();
  // Into the spare segment (which exists); the allocator then starts the next and hangs.
  while (log.write_pos() < seg) ASSERT_TRUE(put_wait(*store, make_message("Lock", 0, kilo)).status);
  while (2 * seg - log.write_pos() > 4500) ASSERT_TRUE(put_wait(*store, make_message("Lock", 0, kilo)).status);
  // Does not fit: needs the segment at 2*seg, whose creation hangs.
  auto big =
      std::async(std::launch::async, [&] { return put_wait(*store, make_message("Lock", 0, std::string(5000, 'b'))); });
  {
    std::unique_lock lock(FsyncSpy::mu);
    ASSERT_TRUE(FsyncSpy::cv.wait_for(lock, 10s, [] { return FsyncSpy::blocked_someone; }));
  }
  // Fits in the current segment: must not wait for the creation.
  auto small = std::async(std::launch::async, [&] { return put_wait(*store, make_message("Lock", 0, "s")); });
  bool small_done = small.wait_for(10s) == std::future_status::ready;
  FsyncSpy::unblock();
  ASSERT_TRUE(small_done) << "a put that fits waited for a segment creation (put lock held across it)";
  PutResult s = small.get();
  PutResult b = big.get();
  ASSERT_TRUE(s.status) << s.status.to_string();
  ASSERT_TRUE(b.status) << b.status.to_string();
  EXPECT_LT(s.commit_log_offset.value(), 2 * seg);
  EXPECT_EQ(b.commit_log_offset.value(), 2 * seg);
  EXPECT_LT(s.queue_offset.value(), b.queue_offset.value());
  store->stop();
}

TEST(DurabilityTest, GetIsBoundedByMaxCountCapAndMaxBytes) {
  TempDir dir;
  StoreOptions o = small_options(dir.path());
  o.commit_log_segment_size = 1 << 20;
  o.message_index_enable = false;
  auto store = testing::make_store(o);
  ASSERT_TRUE(store->start());
  const int n = MmapStore::kMaxGetCount + 100;
  PutResult first;
  for (int i = 0; i < n; ++i) {
    PutResult r = put_wait(*store, make_message("Many", 0, "m"));
    ASSERT_TRUE(r.status);
    if (i == 0) first = r;
  }
  ASSERT_TRUE(store->wait_dispatched(5s));
  GetRequest req;
  req.topic = "Many";
  req.queue_id = 0;
  req.offset = QueueOffset(0);
  req.max_count = INT32_MAX;
  req.max_bytes = INT32_MAX;
  GetResult g = store->get(req);
  EXPECT_EQ(static_cast<int>(g.messages.size()), MmapStore::kMaxGetCount);
  EXPECT_EQ(g.next_begin_offset.value(), MmapStore::kMaxGetCount);

  const int32_t size = first.wrote_bytes;
  req.max_bytes = 3 * size + size / 2;
  g = store->get(req);
  EXPECT_EQ(g.messages.size(), 3u);
  req.max_bytes = 1;  // smaller than one message: that one alone
  g = store->get(req);
  EXPECT_EQ(g.messages.size(), 1u);
  store->stop();
}

TEST(DurabilityTest, SealedIndexFileFlushFailureMarksTheIndexForRebuild) {
  MsyncFault fault;
  TempDir dir;
  const std::string idx = dir.path() + "/index";
  {
    IndexService index(idx, 16, 4, true);  // 3 usable entries per file
    auto loaded = index.load();
    ASSERT_TRUE(loaded);
    RecordSummary s;
    s.topic = "T";
    s.store_timestamp_ms = 1700000000000;
    s.keys = "k";
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(index.index_record(i * 100, 100, s));
    ASSERT_TRUE(index.index_record(300, 100, s));  // rolls: the sealed file waits for flush()
    g_fail_msync = true;
    Status st = index.flush();  // sealing the first file fails
    g_fail_msync = false;
    ASSERT_FALSE(st);
    EXPECT_NE(st.message().find(idx + "/" + offset_to_file_name(0)), std::string::npos) << st.message();
    EXPECT_TRUE(fs::exists(idx + "/REBUILD"));
    Status again = index.flush();  // and so does every later flush
    ASSERT_FALSE(again);
    EXPECT_EQ(again.message(), st.message());
  }
  IndexService again(idx, 16, 4, true);
  auto loaded = again.load();
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->rebuild);
  EXPECT_NE(loaded->reason.find("marked for rebuild"), std::string::npos) << loaded->reason;
  EXPECT_EQ(again.file_count(), 0u);
  EXPECT_FALSE(fs::exists(idx + "/REBUILD"));
}

}  // namespace
}  // namespace mq::storage_mmap
