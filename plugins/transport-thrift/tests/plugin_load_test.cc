// Loads build/plugins/transport-thrift.so the way the kernel does (Boost.DLL alias), drives
// its lifecycle with a fake host, serves a fake broker and makes one call through it.
#include <cstdlib>
#include <filesystem>

#include <boost/dll/shared_library.hpp>
#include <boost/program_options/parsers.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/service_registry.h"
#include "mq/transport.h"
#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

namespace po = boost::program_options;

class FakeHost final : public HostContext {
 public:
  const BrokerIdentity& identity() const override { return identity_; }
  std::shared_ptr<spdlog::logger> logger(const std::string& component) override {
    return std::make_shared<spdlog::logger>(component, std::make_shared<spdlog::sinks::null_sink_mt>());
  }

 private:
  BrokerIdentity identity_;
};

std::filesystem::path module_path() {
  const char* dir = std::getenv("MQ_BUILD_DIR");
  return std::filesystem::path(dir ? dir : ".") / "plugins" / "transport-thrift.so";
}

po::variables_map parse(const PluginDescriptor& descriptor, std::vector<std::string> args) {
  po::options_description description;
  descriptor.declare_options(description);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(description).run(), vm);
  po::notify(vm);
  return vm;
}

TEST(PluginLoad, LoadsConfiguresServesAndStops) {
  auto path = module_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " (is MQ_BUILD_DIR set?)";
  boost::dll::shared_library library(path.string());
  auto& entry = library.get_alias<PluginEntryFn>(kPluginEntrySymbol);
  const PluginDescriptor* descriptor = entry();
  ASSERT_NE(descriptor, nullptr);
  ASSERT_EQ(descriptor->api_version, kPluginApiVersion);
  ASSERT_STREQ(descriptor->build_signature, MQ_BUILD_SIGNATURE);
  EXPECT_STREQ(descriptor->name, "transport-thrift");
  ASSERT_NE(descriptor->provides[0], nullptr);
  EXPECT_STREQ(descriptor->provides[0], "Transport");
  EXPECT_EQ(descriptor->provides[1], nullptr);
  EXPECT_EQ(descriptor->requires_[0], nullptr);

  Plugin* plugin = descriptor->create();
  ASSERT_NE(plugin, nullptr);
  {
    // Bad values are rejected with the key, the value and the range.
    Status bad = plugin->configure(parse(*descriptor, {"--transport-thrift.ioThreads=0"}));
    EXPECT_EQ(bad.code(), Code::kInvalidParameter);
    EXPECT_NE(bad.message().find("transport-thrift.ioThreads=0"), std::string::npos) << bad.message();
    bad = plugin->configure(parse(*descriptor, {"--transport-thrift.maxFrameSize=10"}));
    EXPECT_NE(bad.message().find("transport-thrift.maxFrameSize=10"), std::string::npos) << bad.message();
    bad = plugin->configure(parse(*descriptor, {"--transport-thrift.maxConnections=-1"}));
    EXPECT_NE(bad.message().find("transport-thrift.maxConnections=-1"), std::string::npos) << bad.message();

    ASSERT_TRUE(plugin->configure(parse(*descriptor, {"--transport-thrift.ioThreads=1"})).is_ok());
    ServiceRegistry registry;
    FakeHost host;
    ASSERT_TRUE(plugin->init(registry, host).is_ok());
    ASSERT_TRUE(plugin->start().is_ok());
    auto transport = registry.find<Transport>();
    ASSERT_NE(transport, nullptr);

    FakeBrokerApi api;
    api.on_topics = [] { return std::vector<TopicConfig>{{"Loaded", 2, 2, 6}}; };
    {
      auto server = transport->serve_broker(api, "127.0.0.1", 0);
      ASSERT_TRUE(server.is_ok()) << server.status().to_string();
      ASSERT_NE((*server)->port(), 0);
      auto channel = wire::ClientChannel::connect("127.0.0.1:" + std::to_string((*server)->port()));
      wire::TopicListResponse topics;
      channel->broker().getTopicList(topics);
      ASSERT_EQ(topics.topics.size(), 1u);
      EXPECT_EQ(topics.topics[0].topicName, "Loaded");
      (*server)->stop();
    }
    transport.reset();
    registry.clear();  // the kernel clears the registry before unloading
    plugin->stop();
    plugin->stop();  // idempotent
  }
  descriptor->destroy(plugin);
}

}  // namespace
}  // namespace mq::transport_thrift::testing
