// The plugin's options ("storage-mmap.<key>"), their defaults and validation.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/message.h"
#include "mq/status.h"

namespace mq::storage_mmap {

enum class FlushDiskType { kAsync, kSync };

struct StoreOptions {
  std::string store_root;                              // global storePathRootDir; empty: take HostContext identity
  int64_t commit_log_segment_size = int64_t{1} << 30;  // mapedFileSizeCommitLog
  int64_t consume_queue_file_size = 300000 * 20;       // mapedFileSizeConsumeQueue
  FlushDiskType flush_disk_type = FlushDiskType::kAsync;
  int64_t flush_interval_ms = 500;             // flushIntervalCommitLog
  int64_t flush_least_pages = 4;               // flushCommitLogLeastPages
  int64_t flush_thorough_interval_ms = 10000;  // not an option (RocketMQ default)
  // The newest commit-log bytes kept in the page cache on purpose: once flushed, older bytes
  // are dropped from it by the segment allocator (SegmentAllocator::drop_behind says why);
  // 0: the kernel alone decides what stays. A reader further behind reads from the disk.
  // 512 rather than 1024: batched 1 KiB appends cost less with the smaller window on this
  // project's VMs, and reads below it come from the cold reader (docs/configuration.md).
  int64_t commit_log_cache_mib = 512;  // commitLogPageCacheMiB
  // With commitLogPageCacheMiB: MiB of reused buffers that reads of the log below that window
  // are served from, read with O_DIRECT in 2 MiB chunks with read-ahead (ColdLogReader says
  // why); 0: such reads fault the pages back in through the mapping.
  int64_t commit_log_cold_read_mib = 64;           // commitLogColdReadMiB
  int64_t flush_consume_queue_interval_ms = 1000;  // not an option (RocketMQ default)
  // Not an option. The dispatcher writes every consume queue's write-behind tail into its
  // files at least this often (ConsumeQueue says why there is a tail). Longer lets a busy
  // queue's tail fill to ConsumeQueue::kWriteBehindBytes between writes at 1,024 queues;
  // shorter lets the checkpoint claim the queues sooner.
  int64_t consume_queue_write_out_ms = 500;
  // Not an option. The key index's slots are written at random, so every flush msyncs
  // (and write-protects, one TLB shoot-down each) nearly all its slot pages however few
  // entries were added: ~5,000 per flush at the default size. RocketMQ flushes an index
  // file only when it fills; here every 10 s, and recovery re-indexes from the older of
  // the two flush points (FORMAT.md §4).
  int64_t flush_index_interval_ms = 10000;
  int64_t sync_flush_timeout_ms = 5000;                                     // syncFlushTimeout
  int64_t max_message_size = static_cast<int64_t>(kDefaultMaxMessageSize);  // maxMessageSize

  // Key index (FORMAT.md §5).
  bool message_index_enable = true;     // messageIndexEnable
  int64_t max_hash_slot_num = 5000000;  // maxHashSlotNum
  int64_t max_index_num = 20000000;     // maxIndexNum

  // Recovery. truncateCorruptCommitLog: a corrupt record followed by valid ones (the middle
  // of the log, not a torn tail) refuses start-up unless this is true, which truncates
  // there, dropping the valid records after it.
  bool truncate_corrupt_commit_log = false;
  // Segments: pre-fault the next (pre-allocated) segment's pages in the background.
  bool warm_maped_file_enable = false;  // warmMapedFileEnable
  // Appends whose records take at least append_with_pwrite_min_bytes write them with pwrite
  // instead of storing through the mapping (readers keep the mapping); the warm window is then
  // off. An msync of pages dirtied through a writable shared mapping must write-protect their
  // page-table entries again, which costs about as much as the disk write here: with pwrite a
  // group's msync takes about half. A pwrite of whole pages also spares the kernel zeroing
  // each new page-cache page first (what the warm window spends its time on); a small append
  // is cheaper through the mapping than as a system call. Parsed options: on, with a minimum
  // of 0 bytes with SYNC_FLUSH (every append) and 4096 with ASYNC_FLUSH (batches).
  bool append_with_pwrite = false;           // appendWithPwrite
  int64_t append_with_pwrite_min_bytes = 0;  // appendWithPwriteMinBytes
  // With appendWithPwrite, ASYNC_FLUSH puts big enough for pwrite (and puts behind them) are
  // staged under the put lock and written by whichever putting thread holds the write lock,
  // for every put staged meanwhile (flat combining); their callbacks run on that thread once
  // the bytes are written. Off: each such put writes its own records under the put lock.
  bool combine_append_writes = true;  // appendCombineWrites

  // Retention and disk (RocketMQ names and defaults).
  int64_t file_reserved_time_h = 72;             // fileReservedTime (hours)
  std::string delete_when = "04";                // deleteWhen: hours "HH;HH" when expired files go
  int64_t disk_max_used_space_ratio = 75;        // diskMaxUsedSpaceRatio: above it, expired files go any time
  int64_t disk_space_clean_forcibly_ratio = 85;  // diskSpaceCleanForciblyRatio: above it, oldest go unexpired
  int64_t disk_space_warning_level_ratio = 90;   // diskSpaceWarningLevelRatio: above it, puts are refused
  int64_t clean_resource_interval_ms = 10000;    // cleanResourceInterval
  int64_t delete_files_batch_max = 10;           // not an option (RocketMQ deleteFileBatchMax)

  // Not options: seams for tests and tools. Disk usage of a path in percent (0-100);
  // empty: statvfs. Called on the clean thread.
  std::function<Result<double>(const std::string& path)> disk_usage;
  std::vector<int> delete_when_hours() const;  // parsed delete_when (validated)
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
