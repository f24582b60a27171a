// Option declaration, parsing and validation for storage-mmap.
#include "store_options.h"

#include <boost/any.hpp>

namespace mq::storage_mmap {

namespace po = boost::program_options;

namespace {

std::string key(const char* k) { return std::string(kPluginName) + "." + k; }

Status bad(const char* k, const std::string& value, const std::string& allowed) {
  return Status::invalid("[storage-mmap] " + std::string(k) + "=" + value + " is not allowed: " + allowed);
}

// Reads an integer option declared as int64_t (or given as a string by a caller that did
// not use our declarations). Absent keeps *out.
Status read_int(const po::variables_map& vm, const char* k, int64_t* out) {
  auto it = vm.find(key(k));
  if (it == vm.end() || it->second.empty()) return Status::ok();
  const boost::any& v = it->second.value();
  if (const auto* p = boost::any_cast<int64_t>(&v)) {
    *out = *p;
  } else if (const auto* p32 = boost::any_cast<int>(&v)) {
    *out = *p32;
  } else if (const auto* s = boost::any_cast<std::string>(&v)) {
    try {
      size_t used = 0;
      *out = std::stoll(*s, &used);
      if (used != s->size()) return bad(k, *s, "an integer");
    } catch (const std::exception&) {
      return bad(k, *s, "an integer");
    }
  } else {
    return Status::invalid("[storage-mmap] " + std::string(k) + " has an unexpected type; declare it as int64");
  }
  return Status::ok();
}

}  // namespace

void declare_store_options(po::options_description& out) {
  StoreOptions d;
  out.add_options()
      (key("mapedFileSizeCommitLog").c_str(), po::value<int64_t>()->default_value(d.commit_log_segment_size),
       "bytes per commit-log segment file (>= 4096)")
      (key("mapedFileSizeConsumeQueue").c_str(), po::value<int64_t>()->default_value(d.consume_queue_file_size),
       "bytes per consume-queue file (a multiple of 20, >= 4000)")
      (key("flushDiskType").c_str(), po::value<std::string>()->default_value("ASYNC_FLUSH"),
       "ASYNC_FLUSH (msync in the background) or SYNC_FLUSH (a put completes after its msync)")
      (key("flushIntervalCommitLog").c_str(), po::value<int64_t>()->default_value(d.flush_interval_ms),
       "ASYNC_FLUSH: milliseconds between commit-log flushes")
      (key("flushCommitLogLeastPages").c_str(), po::value<int64_t>()->default_value(d.flush_least_pages),
       "ASYNC_FLUSH: flush only when at least this many pages are dirty (a full flush runs every 10 s)")
      (key("syncFlushTimeout").c_str(), po::value<int64_t>()->default_value(d.sync_flush_timeout_ms),
       "SYNC_FLUSH: milliseconds a put waits for its msync before FLUSH_DISK_TIMEOUT")
      (key("maxMessageSize").c_str(), po::value<int64_t>()->default_value(d.max_message_size),
       "largest accepted message body in bytes");
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
                   {"syncFlushTimeout", &o.sync_flush_timeout_ms},
                   {"maxMessageSize", &o.max_message_size}};
  for (const auto& k : ints) {
    if (Status st = read_int(vm, k.name, k.field); !st) return st;
  }
  if (auto it = vm.find(key("flushDiskType")); it != vm.end() && !it->second.empty()) {
    const auto* s = boost::any_cast<std::string>(&it->second.value());
    std::string v = s ? *s : std::string("?");
    if (v == "ASYNC_FLUSH") {
      o.flush_disk_type = FlushDiskType::kAsync;
    } else if (v == "SYNC_FLUSH") {
      o.flush_disk_type = FlushDiskType::kSync;
    } else {
      return bad("flushDiskType", v, "ASYNC_FLUSH or SYNC_FLUSH");
    }
  }
  if (Status st = validate_store_options(o); !st) return st;
  return o;
}

Status validate_store_options(const StoreOptions& o) {
  if (o.commit_log_segment_size < kMinSegmentSize || o.commit_log_segment_size > (int64_t{1} << 31) - 1)
    return bad("mapedFileSizeCommitLog", std::to_string(o.commit_log_segment_size),
               "4096 to 2147483647 bytes (default 1073741824)");
  if (o.consume_queue_file_size < 200 * 20 || o.consume_queue_file_size % 20 != 0)
    return bad("mapedFileSizeConsumeQueue", std::to_string(o.consume_queue_file_size),
               "a multiple of 20 bytes, at least 4000 (default 6000000)");
  if (o.flush_interval_ms <= 0 || o.flush_interval_ms > 60000)
    return bad("flushIntervalCommitLog", std::to_string(o.flush_interval_ms), "1 to 60000 ms (default 500)");
  if (o.flush_least_pages < 0)
    return bad("flushCommitLogLeastPages", std::to_string(o.flush_least_pages), "0 or more pages (default 4)");
  if (o.sync_flush_timeout_ms <= 0)
    return bad("syncFlushTimeout", std::to_string(o.sync_flush_timeout_ms), "a positive number of ms (default 5000)");
  if (o.max_message_size <= 0 || o.max_message_size > (int64_t{1} << 30))
    return bad("maxMessageSize", std::to_string(o.max_message_size), "1 byte to 1 GiB (default 4194304)");
  return Status::ok();
}

}  // namespace mq::storage_mmap
