// The plugin's options ("storage-mmap.<key>"), their defaults and validation.
#pragma once

#include <cstdint>
#include <string>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/message.h"
#include "mq/status.h"

namespace mq::storage_mmap {

enum class FlushDiskType { kAsync, kSync };

struct StoreOptions {
  std::string store_root;  // global storePathRootDir; empty: take HostContext identity
  int64_t commit_log_segment_size = int64_t{1} << 30;  // mapedFileSizeCommitLog
  int64_t consume_queue_file_size = 300000 * 20;      // mapedFileSizeConsumeQueue
  FlushDiskType flush_disk_type = FlushDiskType::kAsync;
  int64_t flush_interval_ms = 500;                    // flushIntervalCommitLog
  int64_t flush_least_pages = 4;                      // flushCommitLogLeastPages
  int64_t flush_thorough_interval_ms = 10000;         // not an option (RocketMQ default)
  int64_t flush_consume_queue_interval_ms = 1000;     // not an option (RocketMQ default)
  int64_t sync_flush_timeout_ms = 5000;               // syncFlushTimeout
  int64_t max_message_size = static_cast<int64_t>(kDefaultMaxMessageSize);  // maxMessageSize
};

inline constexpr const char* kPluginName = "storage-mmap";
inline constexpr int64_t kMinSegmentSize = 4096;

// Adds every "storage-mmap.<key>" option with its default.
void declare_store_options(boost::program_options::options_description& out);
// Reads the options (absent keys keep their defaults) and the global "storePathRootDir",
// and validates them; errors read "[storage-mmap] <key>=<value> ...: allowed is ...".
Result<StoreOptions> parse_store_options(const boost::program_options::variables_map& vm);
Status validate_store_options(const StoreOptions& o);

}  // namespace mq::storage_mmap
