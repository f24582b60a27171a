// Loads the built storage-mmap.so with Boost.DLL and drives the whole plugin lifecycle:
// descriptor checks, create, configure, init (registry), start, put/get, stop, destroy.
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <boost/dll/shared_library.hpp>
#include <boost/program_options/parsers.hpp>
#include <gtest/gtest.h>

#include "fake_host.h"
#include "mq/plugin.h"
#include "mq/service_registry.h"

namespace mq::storage_mmap {
namespace {

namespace po = boost::program_options;
using namespace std::chrono_literals;

TEST(PluginLoadTest, LoadsConfiguresAndServesThroughTheRegistry) {
  const char* build = std::getenv("MQ_BUILD_DIR");
  ASSERT_NE(build, nullptr) << "MQ_BUILD_DIR is not set (run through ctest)";
  std::string path = std::string(build) + "/plugins/storage-mmap.so";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  testing::TempDir dir;
  {
    boost::dll::shared_library lib(path);
    auto entry = lib.get_alias<PluginEntryFn>(kPluginEntrySymbol);
    const PluginDescriptor* d = entry();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->api_version, kPluginApiVersion);
    EXPECT_STREQ(d->build_signature, MQ_BUILD_SIGNATURE);
    EXPECT_STREQ(d->name, "storage-mmap");
    ASSERT_NE(d->provides[0], nullptr);
    EXPECT_STREQ(d->provides[0], "MessageStore");
    EXPECT_EQ(d->provides[1], nullptr);
    EXPECT_EQ(d->requires_[0], nullptr);

    po::options_description desc;
    d->declare_options(desc);
    desc.add_options()("storePathRootDir", po::value<std::string>());
    std::vector<std::string> args = {"--storePathRootDir=" + dir.path(),
                                     "--storage-mmap.mapedFileSizeCommitLog=65536",
                                     "--storage-mmap.mapedFileSizeConsumeQueue=4000"};
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);

    Plugin* plugin = d->create();
    ASSERT_NE(plugin, nullptr);
    ServiceRegistry registry;
    testing::FakeHost host(dir.path());
    ASSERT_TRUE(plugin->configure(vm));
    Status init = plugin->init(registry, host);
    ASSERT_TRUE(init) << init.to_string();
    ASSERT_TRUE(plugin->start());
    {
      auto store = registry.find<MessageStore>();
      ASSERT_NE(store, nullptr);
      PutResult r = testing::put_wait(*store, testing::make_message("PluginTopic", 0, "hello plugin", "T"));
      ASSERT_TRUE(r.status) << r.status.to_string();
      auto deadline = std::chrono::steady_clock::now() + 5s;
      while (store->max_offset("PluginTopic", 0).value() < 1 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
      GetResult g = testing::get_all(*store, "PluginTopic", 0, 0);
      ASSERT_EQ(g.status, GetStatus::kFound);
      ASSERT_EQ(g.messages.size(), 1u);
      EXPECT_EQ(g.messages[0].body, "hello plugin");
      EXPECT_EQ(g.messages[0].store_host, host.identity().broker_address);
    }
    plugin->stop();
    plugin->stop();  // idempotent
    registry.clear();
    d->destroy(plugin);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/commitlog/" + std::string(20, '0')));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/abort"));
}

TEST(PluginLoadTest, ConfigureRefusesBadValues) {
  const char* build = std::getenv("MQ_BUILD_DIR");
  ASSERT_NE(build, nullptr);
  boost::dll::shared_library lib(std::string(build) + "/plugins/storage-mmap.so");
  const PluginDescriptor* d = lib.get_alias<PluginEntryFn>(kPluginEntrySymbol)();
  po::options_description desc;
  d->declare_options(desc);
  std::vector<std::string> args = {"--storage-mmap.flushDiskType=LAZY"};
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).run(), vm);
  Plugin* plugin = d->create();
  Status st = plugin->configure(vm);
  EXPECT_FALSE(st);
  EXPECT_NE(st.message().find("[storage-mmap] flushDiskType=LAZY"), std::string::npos) << st.message();
  d->destroy(plugin);
}

}  // namespace
}  // namespace mq::storage_mmap
