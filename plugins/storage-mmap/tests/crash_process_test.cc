// Process-level crash test: a forked child writes in SYNC_FLUSH from several threads and
// records each acknowledged message id in a file after the ack; the parent SIGKILLs it at
// a random moment, recovers the store and checks that every acknowledged message is
// readable with its exact bytes and that every readable message is one that was sent.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "fake_host.h"
#include "mmap_store.h"

namespace mq::storage_mmap {
namespace {

using testing::get_all;
using testing::make_store;
using testing::small_options;
using testing::TempDir;

constexpr int kQueues = 4;
constexpr int kWriters = 4;
constexpr int kCycles = 24;

// Deterministic content of message `id`: its id, then filler of an id-dependent length
// (up to ~3 KiB, so 64 KiB segments roll often).
std::string body_for(int64_t id) {
  uint64_t h = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull;
  std::string b = "id=" + std::to_string(id) + ";";
  size_t len = 16 + (h >> 52) % 3000;
  b.reserve(b.size() + len);
  for (size_t i = 0; i < len; ++i) b.push_back(static_cast<char>('A' + (h >> (i % 48)) % 26));
  return b;
}

int64_t id_of(const std::string& body) {
  if (body.rfind("id=", 0) != 0) return -1;
  size_t semi = body.find(';');
  if (semi == std::string::npos) return -1;
  try {
    return std::stoll(body.substr(3, semi - 3));
  } catch (...) {
    return -1;
  }
}

// Odd cycles write with pwrite (appendWithPwrite, SYNC_FLUSH's default as parsed), even
// cycles through the mapping.
StoreOptions crash_options(const std::string& root, int cycle) {
  StoreOptions o = small_options(root);
  o.flush_disk_type = FlushDiskType::kSync;
  o.append_with_pwrite = cycle % 2 == 1;
  return o;
}

// The child: never returns. Writes until killed (or a safety cap).
[[noreturn]] void run_child(const std::string& root, const std::string& ack_path, int cycle) {
  auto store = make_store(crash_options(root, cycle));
  if (!store->start()) ::_exit(3);
  int fd = ::open(ack_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) ::_exit(4);
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int64_t i = 0; i < 100000; ++i) {
        int64_t id = (int64_t{cycle} * kWriters + t) * 1000000 + i;
        StoredMessage m;
        m.topic = "Crash";
        m.queue_id = static_cast<QueueId>(id % kQueues);
        m.body = body_for(id);
        m.set_property(prop::kKeys, std::string("k") + std::to_string(id));
        std::promise<PutResult> p;
        auto f = p.get_future();
        store->put(std::move(m), [&p](PutResult r) { p.set_value(std::move(r)); });
        PutResult r = f.get();
        if (!r.status.is_ok()) ::_exit(5);
        std::string line = std::to_string(id) + "\n";
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(6);
      }
    });
  }
  for (auto& w : writers) w.join();
  ::_exit(0);
}

std::set<int64_t> read_acks(const std::string& path) {
  std::set<int64_t> out;
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = 0;
  while (true) {
    size_t nl = all.find('\n', start);
    if (nl == std::string::npos) break;  // a line without its newline was cut by the kill
    out.insert(std::stoll(all.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

TEST(CrashProcessTest, SigkillDuringSyncFlushLosesNoAcknowledgedMessage) {
  TempDir dir;
  const std::string root = dir.path() + "/store";
  const std::string acks = dir.path() + "/acks";
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  size_t total_acked = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) run_child(root, acks, cycle);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 250)(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);

    auto store = make_store(crash_options(root, cycle));
    ASSERT_TRUE(store->start());
    std::map<int64_t, std::string> seen;  // id -> body as read
    for (int q = 0; q < kQueues; ++q) {
      int64_t next = 0;
      while (true) {
        GetResult g = get_all(*store, "Crash", q, next, 256);
        if (g.status != GetStatus::kFound) {
          ASSERT_TRUE(g.status == GetStatus::kOffsetOverflowOne || g.status == GetStatus::kNoMessageInQueue ||
                      g.status == GetStatus::kNoMatchedLogicQueue)
              << "queue " << q << " offset " << next << " status " << static_cast<int>(g.status);
          break;
        }
        for (const auto& m : g.messages) {
          ASSERT_EQ(m.queue_offset.value(), next) << "hole in queue " << q;  // contiguous
          ++next;
          int64_t id = id_of(m.body);
          ASSERT_GE(id, 0) << "garbage message at queue " << q << " offset " << m.queue_offset.value();
          ASSERT_EQ(m.body, body_for(id)) << "bytes of message " << id << " differ";
          ASSERT_EQ(id % kQueues, q);
          ASSERT_TRUE(seen.emplace(id, m.body).second) << "message " << id << " stored twice";
        }
        next = g.next_begin_offset.value();
      }
    }
    std::set<int64_t> acked = read_acks(acks);
    for (int64_t id : acked) ASSERT_TRUE(seen.count(id)) << "acknowledged message " << id << " was lost";
    total_acked = acked.size();
    store->stop();
  }
  EXPECT_GT(total_acked, static_cast<size_t>(kCycles));  // the children really wrote
  std::printf("crash test: %d cycles, %zu acknowledged messages verified (seed %u)\n", kCycles, total_acked, seed);
}

}  // namespace
}  // namespace mq::storage_mmap
