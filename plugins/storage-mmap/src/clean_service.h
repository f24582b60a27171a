// Retention and disk guard (RocketMQ's CleanCommitLogService / CleanConsumeQueueService):
// deletes expired commit-log segments at deleteWhen hours or under disk pressure, trims
// consume queues and key-index files below the log's minimum offset, and turns puts away
// while the disk is fuller than diskSpaceWarningLevelRatio.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "commit_log.h"
#include "consume_queue_store.h"
#include "dispatcher.h"
#include "index_service.h"
#include "store_options.h"

namespace mq::storage_mmap {

// Disk use of the file system holding `path`, in percent, as df computes Use%:
// used / (used + available to unprivileged users). Blocks reserved for root, or capacity a
// thin-provisioned volume reports but cannot deliver, must not count as "in use" — with
// 1 - avail/total such a volume looks nearly full and retention would delete live segments.
Result<double> statvfs_usage(const std::string& path);
// The formula alone, from statvfs block counts (testable).
double usage_percent(uint64_t blocks, uint64_t blocks_free, uint64_t blocks_available);

struct CleanOutcome {
  double disk_usage = 0;
  int segments_deleted = 0;
  int cq_files_deleted = 0;
  int index_files_deleted = 0;
};

// Threading: one clean thread between start() and stop(); run_once() may also be called
// directly (tests) but not concurrently with that thread.
class CleanService {
 public:
  CleanService(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, Dispatcher& dispatcher,
               const StoreOptions& options, std::shared_ptr<spdlog::logger> logger);
  ~CleanService() { stop(); }

  void start();
  void stop();
  // One pass: disk check, deletions. `now` is wall-clock time.
  CleanOutcome run_once(std::chrono::system_clock::time_point now);

 private:
  void run();

  CommitLog& log_;
  ConsumeQueueStore& queues_;
  IndexService* index_;
  Dispatcher& dispatcher_;
  StoreOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
  bool usage_error_logged_ = false;  // clean thread only
};

}  // namespace mq::storage_mmap
