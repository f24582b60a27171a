// AuditWriter: turns stored puts ([begin, end) commit-log ranges) into audit lines on its
// own thread, so the put path (a network thread) only appends a range to a queue.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "audit_options.h"
#include "mq/message_store.h"
#include "mq/put_pipeline.h"

namespace audit {

// One audit line (with its '\n') for a stored message.
std::string format_audit_line(const mq::StoredMessage& msg);

// Threading: enqueue() from any thread, never blocks on I/O (a short critical section);
// open/start/stop from the plugin's lifecycle (kernel main thread). The writer thread is the
// only one reading the store and touching the file. Ownership: holds the store until stop().
class AuditWriter {
 public:
  AuditWriter(std::shared_ptr<mq::MessageStore> store, AuditOptions options, std::shared_ptr<spdlog::logger> log);
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Opens audit.file for appending (created if missing). Error names the key and the file.
  mq::Status open();
  void start();
  // Queues a stored put; false (counted as dropped) when the queue is full or stopped.
  bool enqueue(const mq::StoredRange& range);
  // Writes everything queued, closes the file, joins the thread, drops the store. Idempotent.
  void stop();

  uint64_t lines_written() const;
  uint64_t dropped() const;

 private:
  void run();
  // Reads the records of `range` and appends their lines to `out`. Writer thread only.
  void audit_range(const mq::StoredRange& range, std::string& out);

  std::shared_ptr<mq::MessageStore> store_;  // reset by stop()
  const AuditOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::FILE* file_ = nullptr;  // writer thread only once started

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<mq::StoredRange> queue_;  // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  uint64_t dropped_ = 0;               // guarded by mu_
  uint64_t dropped_reported_ = 0;      // guarded by mu_
  uint64_t lines_ = 0;                 // guarded by mu_
  std::thread thread_;
};

// The after-store hook: hands the range to the writer and completes the put at once (an
// audit never holds a reply).
class AuditHook final : public mq::AfterStoreHook {
 public:
  explicit AuditHook(std::shared_ptr<AuditWriter> writer) : writer_(std::move(writer)) {}
  void after_store(const mq::StoredRange& stored, std::function<void(mq::Status)> done) override {
    writer_->enqueue(stored);
    done(mq::Status::ok());
  }

 private:
  std::shared_ptr<AuditWriter> writer_;
};

}  // namespace audit
