// Loads the built transaction.so with Boost.DLL: descriptor (name, API version, services,
// options), then the lifecycle against the fake kernel and store: init registers
// TransactionService and the hook, start / stop, destroy, unload.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>
#include <boost/program_options/parsers.hpp>

#include "mq/plugin.h"
#include "mq/service_registry.h"
#include "mq/testkit/fake_host.h"
#include "mq/testkit/fake_message_store.h"
#include "mq/transaction_service.h"

namespace mq::transaction {
namespace {

namespace po = boost::program_options;

TEST(PluginLoadTest, DescriptorAndLifecycleThroughTheRegistry) {
  const char* build = std::getenv("MQ_BUILD_DIR");
  ASSERT_NE(build, nullptr) << "MQ_BUILD_DIR is not set (run through ctest)";
  const std::string path = std::string(build) + "/plugins/transaction.so";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  char tmpl[] = "/tmp/txn-load-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  {
    boost::dll::shared_library lib(path);
    auto entry = lib.get_alias<PluginEntryFn>(kPluginEntrySymbol);
    const PluginDescriptor* d = entry();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->api_version, kPluginApiVersion);
    EXPECT_STREQ(d->build_signature, MQ_BUILD_SIGNATURE);
    EXPECT_STREQ(d->name, "transaction");
    ASSERT_NE(d->provides[0], nullptr);
    EXPECT_STREQ(d->provides[0], "TransactionService");
    EXPECT_EQ(d->provides[1], nullptr);
    ASSERT_NE(d->requires_[0], nullptr);
    EXPECT_STREQ(d->requires_[0], "MessageStore");
    EXPECT_EQ(d->requires_[1], nullptr);

    po::options_description desc;
    d->declare_options(desc);
    EXPECT_NE(desc.find_nothrow("transaction.transactionCheckMax", false), nullptr);
    std::vector<std::string> args = {"--transaction.transactionCheckInterval=1000"};
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);

    Plugin* plugin = d->create();
    ASSERT_NE(plugin, nullptr);
    {
      testkit::FakeKernel kernel;
      kernel.host.mutable_identity().store_root = tmpl;
      auto store = std::make_shared<testkit::FakeMessageStore>();
      ASSERT_TRUE(kernel.registry.provide<MessageStore>(store, "test").is_ok());
      ASSERT_TRUE(plugin->configure(vm).is_ok());
      Status init = plugin->init(kernel.registry, kernel.host);
      ASSERT_TRUE(init.is_ok()) << init.to_string();
      EXPECT_NE(kernel.registry.find<TransactionService>(), nullptr);
      EXPECT_EQ(kernel.pipeline->before_count(), 1u);
      ASSERT_TRUE(plugin->start().is_ok());
      plugin->stop();
      plugin->stop();  // idempotent
      kernel.registry.clear();
      kernel.pipeline = nullptr;
    }
    d->destroy(plugin);
  }
  std::filesystem::remove_all(tmpl);
}

TEST(PluginLoadTest, InitWithoutAStoreNamesTheFix) {
  testkit::FakeKernel kernel;
  kernel.host.mutable_identity().store_root = "/tmp";
  const char* build = std::getenv("MQ_BUILD_DIR");
  ASSERT_NE(build, nullptr);
  boost::dll::shared_library lib(std::string(build) + "/plugins/transaction.so");
  const PluginDescriptor* d = lib.get_alias<PluginEntryFn>(kPluginEntrySymbol)();
  Plugin* plugin = d->create();
  po::variables_map vm;
  ASSERT_TRUE(plugin->configure(vm).is_ok());
  Status init = plugin->init(kernel.registry, kernel.host);
  EXPECT_FALSE(init.is_ok());
  EXPECT_NE(init.message().find("storage-mmap"), std::string::npos) << init.message();
  kernel.registry.clear();
  d->destroy(plugin);
}

}  // namespace
}  // namespace mq::transaction
