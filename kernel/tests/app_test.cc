// BrokerApp / NamesrvApp start-up refusals and help, with the test plugins.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/broker_app.h"
#include "app/namesrv_app.h"
#include "kernel_test_env.h"

namespace mq::kernel {
namespace {

using ::testing::HasSubstr;
using testing::EventRecord;
using testing::TempDir;
using testing::test_plugin_dir;

// The check runs after every plugin's init() and before any start(): nothing is started,
// everything initialised is destroyed and unloaded.
TEST(BrokerAppTest, RefusesConfigWithoutMessageStoreBeforeStartingAnyPlugin) {
  TempDir dir;
  EventRecord events(dir);
  std::string file = dir.write("broker.conf", "plugins=tp-alpha\nlogLevel=off\nstorePathRootDir=" + dir.file("store") +
                                                  "\npluginDir=" + test_plugin_dir() + "\n");
  {
    BrokerApp app({"-c", file});
    Status s = app.start();
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(), "no plugin provides MessageStore: add storage-mmap to plugins=");
  }
  EXPECT_NE(events.index_of("tp-alpha destroyed"), -1);
  EXPECT_EQ(events.index_of("tp-alpha start"), -1);
  EXPECT_NE(events.index_of("tp-alpha unloaded"), -1);
}

TEST(BrokerAppTest, RefusesConfigWithoutPlugins) {
  TempDir dir;
  std::string file = dir.write("broker.conf", "brokerName=b\n");
  BrokerApp app({"-c", file});
  Status s = app.start();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr(file + ": no plugins configured"));
}

TEST(BrokerAppTest, HelpWithoutConfigListsGlobalOptions) {
  BrokerApp app({"--help"});
  ASSERT_TRUE(app.start().is_ok());
  EXPECT_THAT(app.help_text(), HasSubstr("--brokerClusterName"));
  EXPECT_THAT(app.help_text(), HasSubstr("Add -c FILE"));
}

// The real storage-mmap and transport-thrift plugins: $MQ_REAL_PLUGIN_DIR, or
// $MQ_BUILD_DIR/plugins when the whole tree is built.
std::string real_plugin_dir() {
  if (const char* dir = std::getenv("MQ_REAL_PLUGIN_DIR")) return dir;
  const char* build = std::getenv("MQ_BUILD_DIR");
  return build ? std::string(build) + "/plugins" : std::string("plugins");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

TEST(BrokerAppTest, ServesOnAnyPortWithEmbeddedNameServerAndRegisters) {
  const std::string plugins = real_plugin_dir();
  if (!std::filesystem::exists(plugins + "/storage-mmap.so") ||
      !std::filesystem::exists(plugins + "/transport-thrift.so")) {
    GTEST_SKIP() << "storage-mmap.so / transport-thrift.so not built in " << plugins;
  }
  TempDir dir;
  const std::string store = dir.file("store");
  std::string file = dir.write("broker.conf", "brokerName=broker-t\nlistenPort=0\nembeddedNamesrvEnable=true\n"
                                              "namesrvListenPort=0\nplugins=storage-mmap,transport-thrift\n"
                                              "logLevel=warn\nstorePathRootDir=" + store + "\n");
  BrokerApp app({"-c", file, "--pluginDir=" + plugins, "--storage-mmap.flushDiskType=SYNC_FLUSH"});
  Status s = app.start();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_NE(app.broker_port(), 0);
  ASSERT_NE(app.namesrv_port(), 0);
  EXPECT_EQ(read_file(store + "/broker.port"), std::to_string(app.broker_port()));
  EXPECT_EQ(read_file(store + "/namesrv.port"), std::to_string(app.namesrv_port()));
  EXPECT_EQ(app.config().settings.identity.broker_address.port, app.broker_port());

  // The broker registers with the embedded name server under its real address.
  NameServerCore* ns = app.embedded_name_server();
  ASSERT_NE(ns, nullptr);
  const std::string addr = "127.0.0.1:" + std::to_string(app.broker_port());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ns->cluster_info().brokers.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto info = ns->cluster_info();
  ASSERT_EQ(info.brokers.count("broker-t"), 1u);
  EXPECT_EQ(info.brokers["broker-t"].broker_addrs[0], addr);
  app.stop();
}

TEST(NamesrvAppTest, RefusesPluginsWithoutTransport) {
  NamesrvApp app({"--plugins=tp-alpha", "--pluginDir=" + test_plugin_dir(), "--logLevel=off"});
  Status s = app.start();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "no plugin provides Transport: add transport-thrift to plugins=");
}

}  // namespace
}  // namespace mq::kernel
