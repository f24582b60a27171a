// Epoch history and the divergence rule (epoch_file.h).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "epoch_file.h"

namespace mq::ha {
namespace {

TEST(EpochTest, MasterStartOpensANewEpochAndDropsEmptyOnes) {
  EpochList e = begin_master_epoch({}, 0);
  EXPECT_EQ(e, (EpochList{{1, 0}}));
  e = begin_master_epoch(e, 500);
  EXPECT_EQ(e, (EpochList{{1, 0}, {2, 500}}));
  // Restarted with no writes in epoch 2: it described nothing and goes; numbers still grow.
  e = begin_master_epoch(e, 500);
  EXPECT_EQ(e, (EpochList{{1, 0}, {3, 500}}));
  // A log that lost its tail (recovery) drops epochs that start beyond it.
  e = begin_master_epoch(e, 400);
  EXPECT_EQ(e, (EpochList{{1, 0}, {4, 400}}));
}

TEST(EpochTest, CommonPointFollowsTheLongestCommonEpochPrefix) {
  // Same history, slave behind: keep everything.
  EXPECT_EQ(common_point({{1, 0}}, 300, {{1, 0}, {2, 500}}, 900), 300);
  // Master lost its tail and restarted (KIP-101): the slave's extra bytes of epoch 1 go.
  EXPECT_EQ(common_point({{1, 0}}, 800, {{1, 0}, {2, 600}}, 900), 600);
  // Slave wrote under an epoch the master never had (a deposed master): back to its start.
  EXPECT_EQ(common_point({{1, 0}, {2, 600}, {3, 700}}, 900, {{1, 0}, {2, 600}, {4, 650}}, 1000), 650);
  // Epochs the slave copied but holds no bytes of are ignored.
  EXPECT_EQ(common_point({{1, 0}, {2, 600}, {3, 900}}, 850, {{1, 0}, {2, 600}, {3, 850}}, 1000), 850);
  // Slave log ahead of the master within the same epoch.
  EXPECT_EQ(common_point({{1, 0}}, 800, {{1, 0}}, 500), 500);
  // Empty slave.
  EXPECT_EQ(common_point({}, 0, {{1, 0}, {2, 50}}, 100), 0);
  // A slave log without any epoch information against a master whose history starts at 0:
  // nothing can be proven common.
  EXPECT_EQ(common_point({}, 400, {{1, 0}}, 900), 0);
  // Different first epochs: only bytes before both histories began count.
  EXPECT_EQ(common_point({{1, 100}}, 400, {{5, 200}}, 900), 100);
}

TEST(EpochTest, FileRoundTripsAndBadFilesAreNamed) {
  auto dir = std::filesystem::temp_directory_path() / ("ha-epoch-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ha.epoch").string();
  auto missing = load_epochs(path);
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
  EpochList e{{1, 0}, {2, 4096}, {7, 9000}};
  ASSERT_TRUE(save_epochs(path, e));
  auto back = load_epochs(path);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(*back, e);
  std::ofstream(path) << "# header\n1 0\n2 x\n";
  auto bad = load_epochs(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_NE(bad.status().message().find("line 3"), std::string::npos);
  std::ofstream(path) << "2 0\n1 10\n";
  EXPECT_FALSE(load_epochs(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mq::ha
