// Option declaration, parsing and validation for storage-mmap.
#include "store_options.h"

#include <boost/any.hpp>

#include "mq/plugin_options.h"

namespace mq::storage_mmap {

namespace po = boost::program_options;

namespace {

constexpr PluginOptions kOptions{kPluginName};

// "04;16" -> {4, 16}; empty vector on a malformed value.
std::vector<int> parse_hours(const std::string& v) {
  std::vector<int> out;
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(';', i);
    if (j == std::string::npos) j = v.size();
    std::string part = v.substr(i, j - i);
    if (part.empty() || part.size() > 2 || part.find_first_not_of("0123456789") != std::string::npos) return {};
    int h = std::stoi(part);
    if (h > 23) return {};
    out.push_back(h);
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<int> StoreOptions::delete_when_hours() const {
  return parse_hours(delete_when);
}

void declare_store_options(po::options_description& out) {
  StoreOptions d;
  out.add_options()(kOptions.key("mapedFileSizeCommitLog").c_str(),
                    po::value<int64_t>()->default_value(d.commit_log_segment_size),
                    "bytes per commit-log segment file (>= 4096)")(
      kOptions.key("mapedFileSizeConsumeQueue").c_str(), po::value<int64_t>()->default_value(d.consume_queue_file_size),
      "bytes per consume-queue file (a multiple of 20, >= 4000)")(
      kOptions.key("flushDiskType").c_str(), po::value<std::string>()->default_value("ASYNC_FLUSH"),
      "ASYNC_FLUSH (msync in the background) or SYNC_FLUSH (a put completes after its msync)")(
      kOptions.key("flushIntervalCommitLog").c_str(), po::value<int64_t>()->default_value(d.flush_interval_ms),
      "ASYNC_FLUSH: milliseconds between commit-log flushes")(
      kOptions.key("flushCommitLogLeastPages").c_str(), po::value<int64_t>()->default_value(d.flush_least_pages),
      "ASYNC_FLUSH: flush only when at least this many pages are dirty (a full flush runs every 10 s)")(
      kOptions.key("commitLogPageCacheMiB").c_str(), po::value<int64_t>()->default_value(d.commit_log_cache_mib),
      "MiB of the newest commit log kept in the page cache; older flushed bytes are dropped from it (0: left "
      "to the kernel)")(kOptions.key("commitLogColdReadMiB").c_str(),
                        po::value<int64_t>()->default_value(d.commit_log_cold_read_mib),
                        "MiB of buffers serving reads below the page-cache window with direct reads (0: "
                        "through the mapping)")(kOptions.key("syncFlushTimeout").c_str(),
                        po::value<int64_t>()->default_value(d.sync_flush_timeout_ms),
                        "SYNC_FLUSH: milliseconds a put waits for its msync before FLUSH_DISK_TIMEOUT")(
      kOptions.key("maxMessageSize").c_str(), po::value<int64_t>()->default_value(d.max_message_size),
      "largest accepted message body in bytes")(kOptions.key("messageIndexEnable").c_str(),
                                                po::value<bool>()->default_value(d.message_index_enable),
                                                "build the key index (query by KEYS / UNIQ_KEY and time)")(
      kOptions.key("maxHashSlotNum").c_str(), po::value<int64_t>()->default_value(d.max_hash_slot_num),
      "hash slots per key-index file")(kOptions.key("maxIndexNum").c_str(),
                                       po::value<int64_t>()->default_value(d.max_index_num),
                                       "entries per key-index file")(
      kOptions.key("truncateCorruptCommitLog").c_str(), po::value<bool>()->default_value(d.truncate_corrupt_commit_log),
      "on a corrupt record followed by valid ones, truncate there (dropping them) instead of refusing to start")(
      kOptions.key("warmMapedFileEnable").c_str(), po::value<bool>()->default_value(d.warm_maped_file_enable),
      "pre-fault the pages of each pre-allocated commit-log segment")(
      kOptions.key("appendWithPwrite").c_str(), po::value<bool>(),
      "write appended records with pwrite instead of through the segment mapping (no warm window); "
      "default true (with SYNC_FLUSH a group's msync costs about half; whole pages need no zeroing)")(
      kOptions.key("appendWithPwriteMinBytes").c_str(), po::value<int64_t>(),
      "with appendWithPwrite: appends of fewer bytes than this still go through the mapping; "
      "default 0 with SYNC_FLUSH, 4096 with ASYNC_FLUSH")(
      kOptions.key("appendCombineWrites").c_str(), po::value<bool>()->default_value(d.combine_append_writes),
      "with appendWithPwrite and ASYNC_FLUSH: one putting thread writes the records every other thread staged "
      "meanwhile, instead of each put writing its own under the put lock")(
      kOptions.key("fileReservedTime").c_str(), po::value<int64_t>()->default_value(d.file_reserved_time_h),
      "hours a commit-log segment is kept after its last write")(
      kOptions.key("deleteWhen").c_str(), po::value<std::string>()->default_value(d.delete_when),
      "hours of the day (\"04\" or \"04;16\") when expired segments are deleted")(
      kOptions.key("diskMaxUsedSpaceRatio").c_str(), po::value<int64_t>()->default_value(d.disk_max_used_space_ratio),
      "percent of disk use above which expired segments are deleted at any hour")(
      kOptions.key("diskSpaceCleanForciblyRatio").c_str(),
      po::value<int64_t>()->default_value(d.disk_space_clean_forcibly_ratio),
      "percent of disk use above which the oldest segments are deleted even if not expired")(
      kOptions.key("diskSpaceWarningLevelRatio").c_str(),
      po::value<int64_t>()->default_value(d.disk_space_warning_level_ratio),
      "percent of disk use above which puts are refused (disk full) until space is freed")(
      kOptions.key("cleanResourceInterval").c_str(), po::value<int64_t>()->default_value(d.clean_resource_interval_ms),
      "milliseconds between retention / disk checks");
}

Result<StoreOptions> parse_store_options(const po::variables_map& vm) {
  StoreOptions o;
  if (auto it = vm.find("storePathRootDir"); it != vm.end() && !it->second.empty()) {
    if (const auto* s = boost::any_cast<std::string>(&it->second.value())) o.store_root = *s;
  }
  struct IntKey {
    const char* name;
    int64_t* field;
  };
  IntKey ints[] = {{"mapedFileSizeCommitLog", &o.commit_log_segment_size},
                   {"mapedFileSizeConsumeQueue", &o.consume_queue_file_size},
                   {"flushIntervalCommitLog", &o.flush_interval_ms},
                   {"flushCommitLogLeastPages", &o.flush_least_pages},
                   {"commitLogPageCacheMiB", &o.commit_log_cache_mib},
                   {"commitLogColdReadMiB", &o.commit_log_cold_read_mib},
                   {"syncFlushTimeout", &o.sync_flush_timeout_ms},
                   {"maxMessageSize", &o.max_message_size},
                   {"maxHashSlotNum", &o.max_hash_slot_num},
                   {"maxIndexNum", &o.max_index_num},
                   {"fileReservedTime", &o.file_reserved_time_h},
                   {"diskMaxUsedSpaceRatio", &o.disk_max_used_space_ratio},
                   {"diskSpaceCleanForciblyRatio", &o.disk_space_clean_forcibly_ratio},
                   {"diskSpaceWarningLevelRatio", &o.disk_space_warning_level_ratio},
                   {"cleanResourceInterval", &o.clean_resource_interval_ms}};
  for (const auto& k : ints) {
    if (Status st = kOptions.read_int(vm, k.name, k.field); !st) return st;
  }
  struct BoolKey {
    const char* name;
    bool* field;
  };
  BoolKey bools[] = {{"messageIndexEnable", &o.message_index_enable},
                     {"truncateCorruptCommitLog", &o.truncate_corrupt_commit_log},
                     {"warmMapedFileEnable", &o.warm_maped_file_enable},
                     {"appendCombineWrites", &o.combine_append_writes}};
  for (const auto& k : bools) {
    if (Status st = kOptions.read_bool(vm, k.name, k.field); !st) return st;
  }
  if (auto it = vm.find(kOptions.key("deleteWhen")); it != vm.end() && !it->second.empty()) {
    if (const auto* s = boost::any_cast<std::string>(&it->second.value())) o.delete_when = *s;
  }
  if (auto it = vm.find(kOptions.key("flushDiskType")); it != vm.end() && !it->second.empty()) {
    const auto* s = boost::any_cast<std::string>(&it->second.value());
    std::string v = s ? *s : std::string("?");
    if (v == "ASYNC_FLUSH") {
      o.flush_disk_type = FlushDiskType::kAsync;
    } else if (v == "SYNC_FLUSH") {
      o.flush_disk_type = FlushDiskType::kSync;
    } else {
      return kOptions.bad("flushDiskType", v, "ASYNC_FLUSH or SYNC_FLUSH");
    }
  }
  o.append_with_pwrite = true;
  if (Status st = kOptions.read_bool(vm, "appendWithPwrite", &o.append_with_pwrite); !st) return st;
  o.append_with_pwrite_min_bytes = o.flush_disk_type == FlushDiskType::kSync ? 0 : 4096;  // unless set
  if (Status st = kOptions.read_int(vm, "appendWithPwriteMinBytes", &o.append_with_pwrite_min_bytes); !st) return st;
  if (Status st = validate_store_options(o); !st) return st;
  return o;
}

Status validate_store_options(const StoreOptions& o) {
  if (o.commit_log_segment_size < kMinSegmentSize || o.commit_log_segment_size > (int64_t{1} << 31) - 1)
    return kOptions.bad("mapedFileSizeCommitLog", std::to_string(o.commit_log_segment_size),
                        "4096 to 2147483647 bytes (default 1073741824)");
  if (o.consume_queue_file_size < 200 * 20 || o.consume_queue_file_size % 20 != 0)
    return kOptions.bad("mapedFileSizeConsumeQueue", std::to_string(o.consume_queue_file_size),
                        "a multiple of 20 bytes, at least 4000 (default 6000000)");
  if (o.flush_interval_ms <= 0 || o.flush_interval_ms > 60000)
    return kOptions.bad("flushIntervalCommitLog", std::to_string(o.flush_interval_ms), "1 to 60000 ms (default 500)");
  if (o.flush_least_pages < 0)
    return kOptions.bad("flushCommitLogLeastPages", std::to_string(o.flush_least_pages), "0 or more pages (default 4)");
  if (o.commit_log_cache_mib < 0 || o.commit_log_cache_mib > (int64_t{1} << 30))
    return kOptions.bad("commitLogPageCacheMiB", std::to_string(o.commit_log_cache_mib),
                        "0 (off) to 1073741824 MiB (default 512)");
  if (o.commit_log_cold_read_mib != 0 && (o.commit_log_cold_read_mib < 4 || o.commit_log_cold_read_mib > 65536))
    return kOptions.bad("commitLogColdReadMiB", std::to_string(o.commit_log_cold_read_mib),
                        "0 (off) or 4 to 65536 MiB (default 64; read in 2 MiB chunks)");
  if (o.sync_flush_timeout_ms <= 0)
    return kOptions.bad("syncFlushTimeout", std::to_string(o.sync_flush_timeout_ms),
                        "a positive number of ms (default 5000)");
  if (o.max_message_size <= 0 || o.max_message_size > (int64_t{1} << 30))
    return kOptions.bad("maxMessageSize", std::to_string(o.max_message_size), "1 byte to 1 GiB (default 4194304)");
  if (o.max_hash_slot_num < 1 || o.max_hash_slot_num > 100000000)
    return kOptions.bad("maxHashSlotNum", std::to_string(o.max_hash_slot_num), "1 to 100000000 (default 5000000)");
  if (o.max_index_num < 2 || o.max_index_num > 100000000)
    return kOptions.bad("maxIndexNum", std::to_string(o.max_index_num), "2 to 100000000 (default 20000000)");
  if (o.file_reserved_time_h < 1)
    return kOptions.bad("fileReservedTime", std::to_string(o.file_reserved_time_h), "1 hour or more (default 72)");
  if (o.delete_when_hours().empty())
    return kOptions.bad("deleteWhen", o.delete_when,
                        "hours 00-23 separated by ';', e.g. \"04\" or \"04;16\" (default 04)");
  auto ratio_ok = [](int64_t r) { return r >= 10 && r <= 99; };
  if (!ratio_ok(o.disk_max_used_space_ratio))
    return kOptions.bad("diskMaxUsedSpaceRatio", std::to_string(o.disk_max_used_space_ratio),
                        "10 to 99 percent (default 75)");
  if (!ratio_ok(o.disk_space_clean_forcibly_ratio))
    return kOptions.bad("diskSpaceCleanForciblyRatio", std::to_string(o.disk_space_clean_forcibly_ratio),
                        "10 to 99 percent (default 85)");
  if (!ratio_ok(o.disk_space_warning_level_ratio) ||
      o.disk_space_warning_level_ratio < o.disk_space_clean_forcibly_ratio)
    return kOptions.bad("diskSpaceWarningLevelRatio", std::to_string(o.disk_space_warning_level_ratio),
                        "10 to 99 percent and not below diskSpaceCleanForciblyRatio (default 90)");
  if (o.append_with_pwrite_min_bytes < 0 || o.append_with_pwrite_min_bytes > (int64_t{1} << 30))
    return kOptions.bad("appendWithPwriteMinBytes", std::to_string(o.append_with_pwrite_min_bytes),
                        "0 to 1073741824 bytes (default 0 with SYNC_FLUSH, 4096 with ASYNC_FLUSH)");
  if (o.clean_resource_interval_ms < 10 || o.clean_resource_interval_ms > 3600000)
    return kOptions.bad("cleanResourceInterval", std::to_string(o.clean_resource_interval_ms),
                        "10 to 3600000 ms (default 10000)");
  return Status::ok();
}

}  // namespace mq::storage_mmap
