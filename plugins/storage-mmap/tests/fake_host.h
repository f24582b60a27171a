// Test support: a minimal HostContext, a temp directory and synchronous put helpers for
// the storage-mmap tests, a tag filter, a page-cache residency count and a scoped pwrite
// failure.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "mapped_file.h"
#include "mmap_store.h"
#include "mq/host.h"
#include "mq/message_store.h"

namespace mq::storage_mmap::testing {

// Passes the messages tagged `tag`: by tag hash, then by the message's TAGS.
class TagFilter : public MessageFilter {
 public:
  explicit TagFilter(std::string tag) : tag_(std::move(tag)), hash_(tag_hash(tag_)) {}
  bool match_tag_hash(int64_t h) const override { return h == hash_; }
  bool match_message(const StoredMessage& m) const override { return m.tags() == tag_; }

 private:
  std::string tag_;
  int64_t hash_;
};

// Pages of [from, to) of `path` in the page cache, by mincore() on a mapping of the file.
inline size_t resident_pages(const std::string& path, size_t from, size_t to) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, to, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return SIZE_MAX;
  std::vector<unsigned char> in((to + page - 1) / page);
  size_t n = SIZE_MAX;
  if (::mincore(map, to, in.data()) == 0) {
    n = 0;
    for (size_t i = from / page; i < in.size(); ++i) n += in[i] & 1;
  }
  ::munmap(map, to);
  return n;
}

class FakeHost : public HostContext {
 public:
  explicit FakeHost(std::string root) {
    identity_.store_root = std::move(root);
    identity_.broker_address = HostAddress{0x7F000001, 10911};
  }
  const BrokerIdentity& identity() const override { return identity_; }
  std::shared_ptr<spdlog::logger> logger(const std::string& component) override {
    auto l = std::make_shared<spdlog::logger>(component, sink_);
    l->set_level(spdlog::level::warn);
    return l;
  }

 private:
  BrokerIdentity identity_;
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink_ = std::make_shared<spdlog::sinks::stderr_sink_mt>();
};

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/storage_mmap_test.XXXXXX";
    char* p = ::mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    path_ = p ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline StoreOptions small_options(const std::string& root) {
  StoreOptions o;
  o.store_root = root;
  o.commit_log_segment_size = 64 * 1024;
  o.consume_queue_file_size = 200 * 20;
  o.flush_interval_ms = 50;
  o.consume_queue_write_out_ms = 50;
  o.max_hash_slot_num = 512;  // small key-index files (4 KiB of slots, 8000 entries)
  o.max_index_num = 8000;
  o.clean_resource_interval_ms = 3600000;  // tests drive retention through clean_now()
  return o;
}

inline std::shared_ptr<MmapStore> make_store(const StoreOptions& o) {
  FakeHost host(o.store_root);
  return std::make_shared<MmapStore>(o, host.identity().broker_address, host.logger("storage-mmap"));
}

// While alive, MappedFile's pwrite fails with EIO for files whose path contains
// `path_part` (every file when empty), and counts the failures. One at a time.
class FailingPwrites {
 public:
  explicit FailingPwrites(std::string path_part = {}) {
    part() = std::move(path_part);
    failures() = 0;
    set_pwrite_for_testing(&failing);
  }
  ~FailingPwrites() { set_pwrite_for_testing(nullptr); }
  FailingPwrites(const FailingPwrites&) = delete;
  FailingPwrites& operator=(const FailingPwrites&) = delete;
  static int count() { return failures().load(); }

 private:
  static std::string& part() {
    static std::string p;
    return p;
  }
  static std::atomic<int>& failures() {
    static std::atomic<int> n{0};
    return n;
  }
  static ssize_t failing(int fd, const void* buf, size_t count, off_t offset) {
    bool fail = part().empty();
    if (!fail) {
      char path[512];
      const std::string link = "/proc/self/fd/" + std::to_string(fd);
      const ssize_t n = ::readlink(link.c_str(), path, sizeof path - 1);
      fail = n > 0 && std::string_view(path, static_cast<size_t>(n)).find(part()) != std::string_view::npos;
    }
    if (!fail) return ::pwrite(fd, buf, count, offset);
    ++failures();
    errno = EIO;
    return -1;
  }
};

inline StoredMessage make_message(const std::string& topic, QueueId queue, const std::string& body,
                                  const std::string& tags = "") {
  StoredMessage m;
  m.topic = topic;
  m.queue_id = queue;
  m.body = body;
  if (!tags.empty()) m.set_property(prop::kTags, tags);
  m.set_property(prop::kKeys, "key-" + std::to_string(body.size()));
  m.born_timestamp_ms = 1700000000000;
  m.born_host = HostAddress{0x0A000001, 5555};
  return m;
}

// put() and wait for its callback (which may run on the flush thread).
inline PutResult put_wait(MessageStore& store, StoredMessage m) {
  std::promise<PutResult> p;
  auto f = p.get_future();
  store.put(std::move(m), [&p](PutResult r) { p.set_value(std::move(r)); });
  return f.get();
}

inline std::vector<PutResult> put_batch_wait(MessageStore& store, std::vector<StoredMessage> ms) {
  std::promise<std::vector<PutResult>> p;
  auto f = p.get_future();
  store.put_batch(std::move(ms), [&p](std::vector<PutResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

inline GetResult get_all(MessageStore& store, const std::string& topic, QueueId q, int64_t offset,
                         int32_t max_count = 32, const MessageFilter* filter = nullptr) {
  GetRequest req;
  req.topic = topic;
  req.queue_id = q;
  req.offset = QueueOffset(offset);
  req.max_count = max_count;
  req.max_bytes = 1 << 30;
  req.filter = filter;
  return store.get(req);
}

}  // namespace mq::storage_mmap::testing
