// PluginHost tests against real test-plugin libraries: refusals, dependency order,
// lifecycle, failure rollback, and libraries outliving the objects they made.
#include <dlfcn.h>

#include <filesystem>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config_loader.h"
#include "app/kernel_host_context.h"
#include "config/broker_options.h"
#include "kernel_test_env.h"

namespace mq::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::EventRecord;
using testing::TempDir;
using testing::test_plugin_dir;

class LoaderTest : public ::testing::Test {
 protected:
  // Runs the real start-up path (two-pass parse + plugin load) over a config file.
  Status load(const std::string& config, std::vector<std::string> extra = {},
              const std::string& plugin_dir = test_plugin_dir()) {
    config_file_ = dir_.write("broker.conf", config);
    std::vector<std::string> args{"-c", config_file_, "--pluginDir=" + plugin_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    auto loaded = load_config("mqbroker", "mqbroker -c FILE", args, broker_global_options(plugin_dir));
    if (!loaded) return loaded.status();
    loaded_.emplace(std::move(*loaded));
    return Status::ok();
  }
  Status load_and_start(const std::string& config, std::vector<std::string> extra = {}) {
    if (Status s = load(config, std::move(extra)); !s) return s;
    return loaded_->host->start(host_context_);
  }
  std::string plugin_path(const std::string& name) const { return test_plugin_dir() + "/" + name + ".so"; }
  static bool is_mapped(const std::string& path) {
    void* h = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (h == nullptr) return false;
    dlclose(h);
    return true;
  }

  // Destroyed in reverse: loaded_ (unloads, recording events) before the record file goes.
  TempDir dir_;
  EventRecord events_{dir_};
  KernelHostContext host_context_{BrokerIdentity{}, *LogSinks::create("off", "")};
  std::string config_file_;
  std::optional<LoadedConfig> loaded_;
};

TEST_F(LoaderTest, RefusesMissingFile) {
  Status s = load("plugins=tp-nowhere\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("plugin 'tp-nowhere': file " + plugin_path("tp-nowhere") + " not found"));
  EXPECT_THAT(s.message(), HasSubstr("pluginDir="));
}

TEST_F(LoaderTest, RefusesLibraryWithoutDescriptorAlias) {
  Status s = load("plugins=tp-no-alias\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr(plugin_path("tp-no-alias") + ": no 'mq_plugin_descriptor' symbol"));
}

TEST_F(LoaderTest, RefusesOtherPluginApiVersionNamingBothNumbers) {
  Status s = load("plugins=tp-bad-version\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr(plugin_path("tp-bad-version") + ": plugin API version " +
                                     std::to_string(kPluginApiVersion + 1) + ", kernel expects " +
                                     std::to_string(kPluginApiVersion)));
  EXPECT_FALSE(is_mapped(plugin_path("tp-bad-version")));
  // Refused before anything was made from it: no configure/create/destroy, only the unload.
  EXPECT_THAT(events_.lines(), ElementsAre("tp-bad-version unloaded"));
}

TEST_F(LoaderTest, SearchesEveryPluginDirInOrder) {
  TempDir other;
  std::filesystem::copy_file(plugin_path("tp-beta"), other.file("tp-beta.so"));
  // tp-beta from the first directory, tp-alpha (its provider) from the second.
  ASSERT_TRUE(load("plugins=tp-alpha,tp-beta\n", {}, other.path() + ":" + test_plugin_dir()));
  Status s = load("plugins=tp-nowhere\n", {}, other.path() + ":" + test_plugin_dir());
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("file " + other.file("tp-nowhere.so") + " not found (also looked in " +
                                     test_plugin_dir()));
}

TEST_F(LoaderTest, RefusesOtherBuildSignatureShowingBoth) {
  Status s = load("plugins=tp-bad-signature\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("'other-compiler/other-boost'"));
  EXPECT_THAT(s.message(), HasSubstr(std::string("'") + MQ_BUILD_SIGNATURE + "'"));
}

TEST_F(LoaderTest, RefusesDescriptorNameThatDiffersFromFileName) {
  TempDir other;
  std::filesystem::copy_file(plugin_path("tp-alpha"), other.file("tp-renamed.so"));
  Status s = load("plugins=tp-renamed\n", {}, other.path());
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("the library is plugin 'tp-alpha', not 'tp-renamed'"));
}

TEST_F(LoaderTest, RefusesDuplicatePlugin) {
  Status s = load("plugins=tp-alpha,tp-alpha\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("plugin 'tp-alpha' is listed twice in plugins="));
}

TEST_F(LoaderTest, RefusesMissingRequiredService) {
  Status s = load("plugins=tp-beta\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("plugin 'tp-beta' requires service 'Alpha', which no plugin in plugins= provides"));
  EXPECT_FALSE(is_mapped(plugin_path("tp-beta")));
}

TEST_F(LoaderTest, RefusesTwoProvidersOfOneService) {
  Status s = load("plugins=tp-alpha,tp-alpha-twin\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("service 'Alpha' is provided by both 'tp-alpha' and 'tp-alpha-twin'"));
}

TEST_F(LoaderTest, RefusesDependencyCycle) {
  Status s = load("plugins=tp-cycle-a,tp-cycle-b\n");
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("tp-cycle-a, tp-cycle-b require each other's services in a cycle"));
}

TEST_F(LoaderTest, GoodPluginLoadsAndReceivesItsOptions) {
  ASSERT_TRUE(load_and_start("plugins=tp-alpha\n[tp-alpha]\nnumber=42\nlabel=hello\n").is_ok());
  EXPECT_NE(events_.index_of("tp-alpha configure number=42 label=hello"), -1);
  EXPECT_NE(events_.index_of("tp-alpha init broker=broker-a"), -1);  // the host context's identity
  auto services = loaded_->host->registry().list();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0], (std::pair<std::string, std::string>("Alpha", "tp-alpha")));
}

TEST_F(LoaderTest, StartsProvidersFirstAndStopsInReverse) {
  ASSERT_TRUE(load_and_start("plugins=tp-gamma,tp-beta,tp-alpha\n").is_ok());
  EXPECT_THAT(loaded_->host->start_order(), ElementsAre("tp-alpha", "tp-beta", "tp-gamma"));
  loaded_->host->shutdown();
  EXPECT_THAT(events_.events("start"), ElementsAre("tp-alpha start", "tp-beta start", "tp-gamma start"));
  EXPECT_THAT(events_.events("stop"), ElementsAre("tp-gamma stop", "tp-beta stop", "tp-alpha stop"));
  EXPECT_THAT(events_.events("unloaded"), ElementsAre("tp-gamma unloaded", "tp-beta unloaded", "tp-alpha unloaded"));
}

TEST_F(LoaderTest, KeepsLibraryLoadedUntilEveryObjectItMadeIsDestroyed) {
  ASSERT_TRUE(load_and_start("plugins=tp-alpha,tp-beta\n").is_ok());
  // The host's options map holds values made by the plugins' typed_value parsers.
  std::shared_ptr<void> held = loaded_->host->registry().find_raw("Alpha");
  ASSERT_TRUE(held);
  EXPECT_TRUE(is_mapped(plugin_path("tp-alpha")));
  held.reset();
  loaded_->host->shutdown();

  EXPECT_FALSE(is_mapped(plugin_path("tp-alpha")));
  EXPECT_FALSE(is_mapped(plugin_path("tp-beta")));
  int stopped = events_.index_of("tp-alpha stop");
  int service_gone = events_.index_of("tp-alpha service Alpha destroyed");
  int object_gone = events_.index_of("tp-alpha destroyed");
  int unloaded = events_.index_of("tp-alpha unloaded");
  ASSERT_NE(stopped, -1);
  ASSERT_NE(service_gone, -1);
  ASSERT_NE(object_gone, -1);
  ASSERT_NE(unloaded, -1);
  EXPECT_LT(stopped, service_gone);
  EXPECT_LT(service_gone, unloaded);
  EXPECT_LT(object_gone, unloaded);
  EXPECT_LT(events_.index_of("tp-beta destroyed"), events_.index_of("tp-beta unloaded"));
}

TEST_F(LoaderTest, FailedStartStopsStartedPluginsInReverse) {
  Status s = load_and_start("plugins=tp-alpha,tp-beta,tp-gamma\n[tp-gamma]\nfailIn=start\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "plugin 'tp-gamma' start failed: tp-gamma refuses to start");
  EXPECT_THAT(events_.events("stop"), ElementsAre("tp-gamma stop", "tp-beta stop", "tp-alpha stop"));
}

TEST_F(LoaderTest, ExceptionFromPluginIsReportedNamingThePlugin) {
  Status s = load_and_start("plugins=tp-alpha,tp-beta\n", {"--tp-beta.throwIn=init"});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "plugin 'tp-beta' init failed: threw: tp-beta throws in init");
  EXPECT_TRUE(events_.events("start").empty());
  EXPECT_TRUE(events_.events("stop").empty());
}

TEST_F(LoaderTest, FailedConfigureAbortsWithItsStatusText) {
  Status s = load_and_start("plugins=tp-alpha\n[tp-alpha]\nfailIn=configure\n");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "plugin 'tp-alpha' configure failed: tp-alpha refuses to configure");
  EXPECT_EQ(events_.index_of("tp-alpha init broker=broker-a"), -1);
}

}  // namespace
}  // namespace mq::kernel
