// Configuration tests: two-pass parsing, command-line overrides, one-line refusals for
// unknown keys / sections / bad values, --help listing, and the global keys' defaults.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config_loader.h"
#include "app/kernel_host_context.h"
#include "config/broker_options.h"
#include "config/namesrv_options.h"
#include "config/option_parser.h"
#include "kernel_test_env.h"

namespace mq::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::EventRecord;
using testing::TempDir;
using testing::test_plugin_dir;

class ConfigTest : public ::testing::Test {
 protected:
  Result<LoadedConfig> load(const std::string& config, std::vector<std::string> extra = {}) {
    file_ = dir_.write("broker.conf", config);
    std::vector<std::string> args{"-c", file_, "--pluginDir=" + test_plugin_dir()};
    args.insert(args.end(), extra.begin(), extra.end());
    return load_config("mqbroker", "mqbroker -c FILE", args, broker_global_options(test_plugin_dir()));
  }
  std::string load_error(const std::string& config, std::vector<std::string> extra = {}) {
    auto r = load(config, std::move(extra));
    EXPECT_FALSE(r.is_ok());
    return r.status().message();
  }

  TempDir dir_;
  EventRecord events_{dir_};
  std::string file_;
};

TEST_F(ConfigTest, RefusesUnknownKeyInPluginSection) {
  std::string error = load_error("plugins=tp-alpha\n[tp-alpha]\nnumbr=3\n");
  EXPECT_EQ(error, file_ + ": unknown key 'numbr' in section [tp-alpha]; run 'mqbroker --help -c " + file_ +
                       "' to list valid keys");
}

TEST_F(ConfigTest, RefusesSectionOfPluginNotListed) {
  std::string error = load_error("plugins=tp-alpha\n[tp-beta]\nnumber=3\n");
  EXPECT_THAT(error, HasSubstr(file_ + ": section [tp-beta] is for plugin 'tp-beta', which is not listed in plugins="));
}

TEST_F(ConfigTest, RefusesUnknownGlobalKey) {
  std::string error = load_error("plugins=tp-alpha\nbrokerNam=x\n");
  EXPECT_EQ(error, file_ + ": unknown key 'brokerNam'; run 'mqbroker --help -c " + file_ + "' to list valid keys");
}

TEST_F(ConfigTest, RefusesUnknownKeyOnCommandLine) {
  std::string error = load_error("plugins=tp-alpha\n", {"--tp-alpha.nope=1"});
  EXPECT_THAT(error, HasSubstr("command line: unknown key 'nope' in section [tp-alpha]"));
}

TEST_F(ConfigTest, RefusesPluginValueOfWrongType) {
  std::string error = load_error("plugins=tp-alpha\n[tp-alpha]\nnumber=abc\n");
  EXPECT_EQ(error, file_ + ": invalid value 'abc' for key 'tp-alpha.number' (expected an integer)");
}

TEST_F(ConfigTest, RefusesGlobalValueOfWrongType) {
  std::string error = load_error("plugins=tp-alpha\nautoCreateTopicEnable=maybe\n");
  EXPECT_EQ(error, file_ + ": invalid value 'maybe' for key 'autoCreateTopicEnable' (expected true or false)");
}

TEST_F(ConfigTest, RefusesOutOfRangePort) {
  auto loaded = load("plugins=tp-alpha\nlistenPort=70000\n");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto config = broker_config_from(loaded->host->options());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.status().message(), "invalid value '70000' for key 'listenPort' (expected 0..65535)");
}

TEST_F(ConfigTest, RefusesMissingConfigFile) {
  OptionParser parser("mqbroker", {"-c", dir_.file("absent.conf")});
  auto vm = parser.parse_globals(broker_global_options("/nowhere"));
  ASSERT_FALSE(vm);
  EXPECT_THAT(vm.status().message(), HasSubstr("cannot read config file '" + dir_.file("absent.conf") + "'"));
}

TEST_F(ConfigTest, CommandLineOverridesFile) {
  auto loaded = load("brokerName=from-file\nlistenPort=1234\nplugins=tp-alpha\n[tp-alpha]\nnumber=42\nlabel=file\n",
                     {"--tp-alpha.number=43", "--brokerName=from-cli"});
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto config = broker_config_from(loaded->host->options());
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->settings.identity.broker_name, "from-cli");
  EXPECT_EQ(config->listen_port, 1234);  // not overridden: the file's value

  KernelHostContext host(config->settings.identity, loaded->sinks);
  ASSERT_TRUE(loaded->host->start(host).is_ok());
  EXPECT_NE(events_.index_of("tp-alpha configure number=43 label=file"), -1);
  EXPECT_NE(events_.index_of("tp-alpha init broker=from-cli"), -1);
  loaded->host->shutdown();
}

TEST_F(ConfigTest, HelpListsGlobalOptionsAndThoseOfLoadedPluginsOnly) {
  auto loaded = load("plugins=tp-alpha\n", {"--help"});
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_THAT(loaded->help_text, HasSubstr("--listenPort"));
  EXPECT_THAT(loaded->help_text, HasSubstr("--tp-alpha.number"));
  EXPECT_THAT(loaded->help_text, HasSubstr("[tp-alpha] options"));
  EXPECT_THAT(loaded->help_text, Not(HasSubstr("tp-beta")));
}

TEST_F(ConfigTest, BrokerConfigDefaults) {
  auto loaded = load("plugins=tp-alpha, tp-beta\nnamesrvAddr=10.0.0.1:9876;10.0.0.2:9877\n");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto config = broker_config_from(loaded->host->options());
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  const BrokerSettings& s = config->settings;
  EXPECT_EQ(s.identity.cluster_name, "DefaultCluster");
  EXPECT_EQ(s.identity.broker_name, "broker-a");
  EXPECT_EQ(s.identity.store_root, "./data/broker-a");
  EXPECT_EQ(s.identity.broker_address.to_string(), "127.0.0.1:10911");
  EXPECT_THAT(s.namesrv_addrs, ElementsAre("10.0.0.1:9876", "10.0.0.2:9877"));
  EXPECT_THAT(config->plugins, ElementsAre("tp-alpha", "tp-beta"));
  EXPECT_EQ(s.default_topic_queue_nums, 4);
  EXPECT_EQ(s.max_message_size, 4194304);
  EXPECT_EQ(s.register_name_server_period_ms, 30000);
  EXPECT_FALSE(config->embedded_namesrv_enable);
  EXPECT_EQ(config->namesrv_listen_port, 9876);
  EXPECT_EQ(s.pull_max_msg_nums, 1024);
  EXPECT_EQ(s.pull_max_bytes, 8 << 20);
}

TEST_F(ConfigTest, PullCapsAreReadAndRangeChecked) {
  auto loaded = load("plugins=tp-alpha\npullMaxMsgNums=64\npullMaxBytes=65536\n");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  auto config = broker_config_from(loaded->host->options());
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->settings.pull_max_msg_nums, 64);
  EXPECT_EQ(config->settings.pull_max_bytes, 65536);

  auto zero = load("plugins=tp-alpha\npullMaxMsgNums=0\n");
  ASSERT_TRUE(zero.is_ok()) << zero.status().to_string();
  auto refused = broker_config_from(zero->host->options());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().message(), "invalid value '0' for key 'pullMaxMsgNums' (expected 1..2147483647)");

  auto huge = load("plugins=tp-alpha\npullMaxBytes=4294967296\n");
  ASSERT_TRUE(huge.is_ok()) << huge.status().to_string();
  auto too_big = broker_config_from(huge->host->options());
  ASSERT_FALSE(too_big);
  EXPECT_THAT(too_big.status().message(), HasSubstr("'pullMaxBytes'"));
}

TEST_F(ConfigTest, NamesrvRunsWithDefaultsWithoutConfigFile) {
  OptionParser parser("mqnamesrv", {"--listenPort=0", "--scanNotActiveBrokerInterval=250"});
  auto vm = parser.parse_all(namesrv_global_options("/plugins"), {});
  ASSERT_TRUE(vm.is_ok()) << vm.status().to_string();
  auto config = namesrv_config_from(*vm);
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  EXPECT_EQ(config->listen_port, 0);
  EXPECT_THAT(config->plugins, ElementsAre("transport-thrift"));
  EXPECT_EQ(config->plugin_dir, "/plugins");
  EXPECT_EQ(config->settings.scan_not_active_broker_interval_ms, 250);
}

}  // namespace
}  // namespace mq::kernel
