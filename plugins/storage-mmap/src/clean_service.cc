// CleanService: disk-usage check, segment expiry and deletion, CQ / index trimming.
#include "clean_service.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace mq::storage_mmap {

Result<double> statvfs_usage(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) {
    int err = errno;
    return Status::system("statvfs " + path + ": " + std::strerror(err));
  }
  return usage_percent(s.f_blocks, s.f_bfree, s.f_bavail);
}

double usage_percent(uint64_t blocks, uint64_t blocks_free, uint64_t blocks_available) {
  uint64_t used = blocks > blocks_free ? blocks - blocks_free : 0;
  uint64_t usable = used + blocks_available;
  if (usable == 0) return 0.0;
  return 100.0 * static_cast<double>(used) / static_cast<double>(usable);
}

CleanService::CleanService(CommitLog& log, ConsumeQueueStore& queues, IndexService* index, Dispatcher& dispatcher,
                           const StoreOptions& options, std::shared_ptr<spdlog::logger> logger)
    : log_(log), queues_(queues), index_(index), dispatcher_(dispatcher), options_(options),
      logger_(std::move(logger)) {}

void CleanService::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  (void)run_once(std::chrono::system_clock::now());  // a full disk is refused from the start
  thread_ = std::thread([this] { run(); });
}

void CleanService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CleanService::run() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(options_.clean_resource_interval_ms),
                       [&] { return stopping_; }))
        return;
    }
    (void)run_once(std::chrono::system_clock::now());
  }
}

CleanOutcome CleanService::run_once(std::chrono::system_clock::time_point now) {
  CleanOutcome out;
  const std::string path = log_.segments().dir();
  auto usage = options_.disk_usage ? options_.disk_usage(path) : statvfs_usage(path);
  if (!usage) {
    if (!usage_error_logged_) logger_->warn("cannot read disk usage: {}", usage.status().message());
    usage_error_logged_ = true;
  } else {
    usage_error_logged_ = false;
    out.disk_usage = *usage;
  }
  const double u = out.disk_usage;
  if (u >= static_cast<double>(options_.disk_space_warning_level_ratio)) {
    if (!log_.disk_full())
      logger_->error("disk full: {} is {:.1f}% used (diskSpaceWarningLevelRatio={}); refusing puts", path, u,
                     options_.disk_space_warning_level_ratio);
    log_.set_disk_full(fmt::format(
        "disk full: {} is {:.1f}% used, above diskSpaceWarningLevelRatio={}%; puts resume by themselves once "
        "retention or an operator frees space",
        path, u, options_.disk_space_warning_level_ratio));
  } else if (log_.disk_full()) {
    log_.clear_disk_full();
    logger_->info("disk usage of {} is {:.1f}%, below diskSpaceWarningLevelRatio={}; puts accepted again", path, u,
                  options_.disk_space_warning_level_ratio);
  }

  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local {};
  ::localtime_r(&t, &local);
  auto hours = options_.delete_when_hours();
  const bool at_delete_hour = std::find(hours.begin(), hours.end(), local.tm_hour) != hours.end();
  const bool pressure = u > static_cast<double>(options_.disk_max_used_space_ratio);
  const bool forcibly = u > static_cast<double>(options_.disk_space_clean_forcibly_ratio);
  if (at_delete_hour || pressure || forcibly) {
    // Never delete what is not yet flushed or indexed, nor the segment being written.
    const int64_t limit = std::min(log_.flushed_pos(), dispatcher_.dispatched());
    const auto reserved = std::chrono::hours(options_.file_reserved_time_h);
    auto pred = [&](const MappedFile& f) {
      if (f.end() > limit) return false;
      if (forcibly) return true;
      struct stat st {};
      if (::stat(f.path().c_str(), &st) != 0) return false;
      auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
      return mtime + reserved < now;
    };
    Status del;
    out.segments_deleted =
        log_.segments().delete_front(pred, /*keep=*/1, static_cast<size_t>(options_.delete_files_batch_max), &del);
    if (!del) logger_->error("retention: {}; a deleted segment may reappear after a crash", del.message());
    if (out.segments_deleted > 0)
      logger_->info("retention deleted {} commit-log segment(s); min offset now {} (disk {:.1f}%, {})",
                    out.segments_deleted, log_.min_offset(), u,
                    forcibly ? "forcibly" : pressure ? "disk pressure" : "deleteWhen hour");
  }
  const int64_t log_min = log_.min_offset();
  for (const auto& cq : queues_.all()) {
    Status del;
    out.cq_files_deleted += cq->delete_below(log_min, &del);
    if (!del) logger_->error("retention: {}; a deleted consume-queue file may reappear after a crash", del.message());
  }
  if (index_) {
    Status del;
    out.index_files_deleted = index_->delete_below(log_min, &del);
    if (!del) logger_->error("retention: {}; a deleted index file may reappear after a crash", del.message());
  }
  return out;
}

}  // namespace mq::storage_mmap
