// Process-level checks of the mqbroker command line: --help lists plugin options, bad
// configurations are refused with one clear line, signals shut down gracefully.
#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

std::string write_conf(const TempDir& dir, const std::string& extra_global, const std::string& sections) {
  std::string path = dir.path() + "/broker.conf";
  write_file(path, "brokerName=cli\nlistenPort=0\nstorePathRootDir=" + dir.path() +
                       "/store\nplugins=storage-mmap,transport-thrift\n" + extra_global + "\n" + sections);
  return path;
}

TEST(BrokerCliTest, HelpListsTheOptionsOfTheLoadedPlugins) {
  TempDir dir("mqcli");
  auto conf = write_conf(dir, "", "");
  auto result = run_command({bin_path("mqbroker"), "--help", "-c", conf}, 30s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  for (const char* key : {"brokerName", "listenPort", "flushDiskType", "mapedFileSizeCommitLog", "ioThreads"}) {
    EXPECT_NE(result.output.find(key), std::string::npos) << key << " missing from:\n" << result.output;
  }
}

TEST(BrokerCliTest, UnknownKeyInPluginSectionIsRefused) {
  TempDir dir("mqcli");
  auto conf = write_conf(dir, "", "[storage-mmap]\nflushDiskTypo=ASYNC_FLUSH\n");
  auto result = run_command({bin_path("mqbroker"), "-c", conf}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("flushDiskTypo"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("storage-mmap"), std::string::npos) << result.output;
}

TEST(BrokerCliTest, InvalidValueIsRefused) {
  TempDir dir("mqcli");
  auto conf = write_conf(dir, "", "[storage-mmap]\nflushDiskType=SOMETIMES\n");
  auto result = run_command({bin_path("mqbroker"), "-c", conf}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("SOMETIMES"), std::string::npos) << result.output;
}

TEST(BrokerCliTest, MissingPluginFileIsRefused) {
  TempDir dir("mqcli");
  std::string path = dir.path() + "/broker.conf";
  write_file(path, "listenPort=0\nstorePathRootDir=" + dir.path() + "/store\nplugins=storage-mmap,no-such-plugin\n");
  auto result = run_command({bin_path("mqbroker"), "-c", path}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("no-such-plugin"), std::string::npos) << result.output;
}

TEST(BrokerCliTest, CommandLineOverridesTheFile) {
  TempDir dir("mqcli");
  auto conf = write_conf(dir, "", "[storage-mmap]\nflushDiskType=ASYNC_FLUSH\n");
  auto result = run_command({bin_path("mqbroker"), "-c", conf, "--storage-mmap.flushDiskType=BAD_OVERRIDE"}, 30s);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("BAD_OVERRIDE"), std::string::npos) << result.output;
}

TEST(BrokerCliTest, SigintAndSigtermShutDownGracefully) {
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir dir("mqcli");
    BrokerOptions options;
    BrokerProcess broker(dir.path(), options);
    broker.start();
    EXPECT_EQ(broker.stop(sig), 0) << broker.log();
    EXPECT_FALSE(std::filesystem::exists(broker.store_dir() + "/abort")) << "clean stop must remove the abort file";
  }
}

}  // namespace
}  // namespace mq::testing
