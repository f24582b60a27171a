// Option parsing and validation: defaults, good values, refusals naming key and value.
#include "store_options.h"

#include <vector>

#include <gtest/gtest.h>
#include <boost/program_options/parsers.hpp>

namespace mq::storage_mmap {
namespace {

namespace po = boost::program_options;

Result<StoreOptions> parse(std::vector<std::string> args) {
  po::options_description desc;
  declare_store_options(desc);
  desc.add_options()("storePathRootDir", po::value<std::string>());
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  po::notify(vm);
  return parse_store_options(vm);
}

TEST(OptionsTest, AppendWithPwriteMinimumFollowsTheFlushModeUnlessSet) {
  auto async = parse({});
  ASSERT_TRUE(async);
  EXPECT_TRUE(async->append_with_pwrite);
  EXPECT_EQ(async->append_with_pwrite_min_bytes, 4096);
  auto sync = parse({"--storage-mmap.flushDiskType=SYNC_FLUSH"});
  ASSERT_TRUE(sync);
  EXPECT_TRUE(sync->append_with_pwrite);
  EXPECT_EQ(sync->append_with_pwrite_min_bytes, 0);
  auto off = parse({"--storage-mmap.flushDiskType=SYNC_FLUSH", "--storage-mmap.appendWithPwrite=false"});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->append_with_pwrite);
  EXPECT_TRUE(async->combine_append_writes);
  auto separate = parse({"--storage-mmap.appendCombineWrites=false"});
  ASSERT_TRUE(separate);
  EXPECT_FALSE(separate->combine_append_writes);
  auto every = parse({"--storage-mmap.appendWithPwriteMinBytes=0"});
  ASSERT_TRUE(every);
  EXPECT_EQ(every->append_with_pwrite_min_bytes, 0);
  auto negative = parse({"--storage-mmap.appendWithPwriteMinBytes=-1"});
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.status().message().find("appendWithPwriteMinBytes=-1"), std::string::npos)
      << negative.status().to_string();
}

TEST(OptionsTest, DefaultsAndGoodValues) {
  auto d = parse({});
  ASSERT_TRUE(d) << d.status().to_string();
  EXPECT_EQ(d->commit_log_segment_size, int64_t{1} << 30);
  EXPECT_EQ(d->consume_queue_file_size, 6000000);
  EXPECT_EQ(d->flush_disk_type, FlushDiskType::kAsync);
  EXPECT_EQ(d->flush_interval_ms, 500);
  EXPECT_EQ(d->flush_least_pages, 4);
  EXPECT_EQ(d->sync_flush_timeout_ms, 5000);
  EXPECT_EQ(d->max_message_size, 4 << 20);
  EXPECT_EQ(d->commit_log_cache_mib, 512);
  EXPECT_EQ(d->commit_log_cold_read_mib, 64);
  EXPECT_TRUE(d->store_root.empty());

  auto g = parse({"--storePathRootDir=/tmp/x", "--storage-mmap.mapedFileSizeCommitLog=65536",
                  "--storage-mmap.flushDiskType=SYNC_FLUSH", "--storage-mmap.syncFlushTimeout=100",
                  "--storage-mmap.commitLogPageCacheMiB=0", "--storage-mmap.commitLogColdReadMiB=0"});
  ASSERT_TRUE(g) << g.status().to_string();
  EXPECT_EQ(g->store_root, "/tmp/x");
  EXPECT_EQ(g->commit_log_segment_size, 65536);
  EXPECT_EQ(g->flush_disk_type, FlushDiskType::kSync);
  EXPECT_EQ(g->sync_flush_timeout_ms, 100);
  EXPECT_EQ(g->commit_log_cache_mib, 0);
  EXPECT_EQ(g->commit_log_cold_read_mib, 0);
}

TEST(OptionsTest, RetentionIndexAndRecoveryOptions) {
  auto d = parse({});
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->message_index_enable);
  EXPECT_EQ(d->max_hash_slot_num, 5000000);
  EXPECT_EQ(d->max_index_num, 20000000);
  EXPECT_FALSE(d->truncate_corrupt_commit_log);
  EXPECT_FALSE(d->warm_maped_file_enable);
  EXPECT_EQ(d->file_reserved_time_h, 72);
  EXPECT_EQ(d->delete_when_hours(), std::vector<int>{4});
  EXPECT_EQ(d->disk_max_used_space_ratio, 75);
  EXPECT_EQ(d->disk_space_clean_forcibly_ratio, 85);
  EXPECT_EQ(d->disk_space_warning_level_ratio, 90);
  EXPECT_EQ(d->clean_resource_interval_ms, 10000);

  auto g = parse({"--storage-mmap.deleteWhen=04;16", "--storage-mmap.fileReservedTime=48",
                  "--storage-mmap.messageIndexEnable=false", "--storage-mmap.truncateCorruptCommitLog=true",
                  "--storage-mmap.diskSpaceWarningLevelRatio=95", "--storage-mmap.maxIndexNum=1000"});
  ASSERT_TRUE(g) << g.status().to_string();
  EXPECT_EQ(g->delete_when_hours(), (std::vector<int>{4, 16}));
  EXPECT_EQ(g->file_reserved_time_h, 48);
  EXPECT_FALSE(g->message_index_enable);
  EXPECT_TRUE(g->truncate_corrupt_commit_log);
  EXPECT_EQ(g->disk_space_warning_level_ratio, 95);
  EXPECT_EQ(g->max_index_num, 1000);
}

TEST(OptionsTest, BadValuesAreRefusedNamingKeyAndValue) {
  struct Case {
    std::string arg;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"--storage-mmap.flushDiskType=FAST", "[storage-mmap] flushDiskType=FAST"},
      {"--storage-mmap.mapedFileSizeCommitLog=1000", "[storage-mmap] mapedFileSizeCommitLog=1000"},
      {"--storage-mmap.mapedFileSizeCommitLog=-5", "[storage-mmap] mapedFileSizeCommitLog=-5"},
      {"--storage-mmap.mapedFileSizeConsumeQueue=6001", "[storage-mmap] mapedFileSizeConsumeQueue=6001"},
      {"--storage-mmap.flushIntervalCommitLog=0", "[storage-mmap] flushIntervalCommitLog=0"},
      {"--storage-mmap.flushCommitLogLeastPages=-1", "[storage-mmap] flushCommitLogLeastPages=-1"},
      {"--storage-mmap.syncFlushTimeout=0", "[storage-mmap] syncFlushTimeout=0"},
      {"--storage-mmap.commitLogPageCacheMiB=-1", "[storage-mmap] commitLogPageCacheMiB=-1"},
      {"--storage-mmap.commitLogColdReadMiB=3", "[storage-mmap] commitLogColdReadMiB=3"},
      {"--storage-mmap.commitLogColdReadMiB=70000", "[storage-mmap] commitLogColdReadMiB=70000"},
      {"--storage-mmap.maxMessageSize=0", "[storage-mmap] maxMessageSize=0"},
      {"--storage-mmap.deleteWhen=25", "[storage-mmap] deleteWhen=25"},
      {"--storage-mmap.deleteWhen=04;x", "[storage-mmap] deleteWhen=04;x"},
      {"--storage-mmap.fileReservedTime=0", "[storage-mmap] fileReservedTime=0"},
      {"--storage-mmap.diskMaxUsedSpaceRatio=100", "[storage-mmap] diskMaxUsedSpaceRatio=100"},
      {"--storage-mmap.diskSpaceWarningLevelRatio=80", "[storage-mmap] diskSpaceWarningLevelRatio=80"},
      {"--storage-mmap.maxHashSlotNum=0", "[storage-mmap] maxHashSlotNum=0"},
      {"--storage-mmap.maxIndexNum=1", "[storage-mmap] maxIndexNum=1"},
      {"--storage-mmap.cleanResourceInterval=1", "[storage-mmap] cleanResourceInterval=1"},
  };
  for (const auto& c : cases) {
    auto r = parse({c.arg});
    ASSERT_FALSE(r) << c.arg;
    EXPECT_EQ(r.status().code(), Code::kInvalidParameter);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("allowed"), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace mq::storage_mmap
