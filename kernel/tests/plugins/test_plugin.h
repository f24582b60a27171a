// Shared body of the loader-test plugins: each tp_*.cc names itself, its services and its
// descriptor fields and expands MQ_TEST_PLUGIN. Every lifecycle event is appended as one
// line "<plugin> <event>" to the file named by $MQ_TEST_PLUGIN_RECORD (if set).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/service_registry.h"

namespace mq::test_plugin {

inline void record(const std::string& line) {
  const char* path = std::getenv("MQ_TEST_PLUGIN_RECORD");
  if (path == nullptr) return;
  if (std::FILE* f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }
}

// Options: <name>.number (int, 7), <name>.label (string), and <name>.failIn / <name>.throwIn
// naming a phase (configure, init, start) that returns an error / throws.
inline void declare_options(const std::string& name, boost::program_options::options_description& out) {
  namespace po = boost::program_options;
  out.add_options()(
      (name + ".number").c_str(), po::value<int>()->default_value(7), "a number the plugin records")(
      (name + ".label").c_str(), po::value<std::string>()->default_value("none"), "a label the plugin records")(
      (name + ".failIn").c_str(), po::value<std::string>()->default_value(""), "phase that returns an error")(
      (name + ".throwIn").c_str(), po::value<std::string>()->default_value(""), "phase that throws");
}

// A provided service: records its destruction, which must happen before the unload.
struct TrackedService {
  std::string owner, service;
  ~TrackedService() { record(owner + " service " + service + " destroyed"); }
};

// Records its static destruction, i.e. the library being unloaded.
struct UnloadRecorder {
  const char* name;
  ~UnloadRecorder() { record(std::string(name) + " unloaded"); }
};

class TestPlugin final : public Plugin {
 public:
  TestPlugin(const char* name, const char* const* provides, const char* const* requires_)
      : name_(name), provides_(provides), requires_(requires_) {}
  ~TestPlugin() override { record(name_ + " destroyed"); }

  Status configure(const boost::program_options::variables_map& vm) override {
    fail_in_ = vm[name_ + ".failIn"].as<std::string>();
    throw_in_ = vm[name_ + ".throwIn"].as<std::string>();
    record(name_ + " configure number=" + std::to_string(vm[name_ + ".number"].as<int>()) +
           " label=" + vm[name_ + ".label"].as<std::string>());
    return phase("configure");
  }
  Status init(ServiceRegistry& registry, HostContext& host) override {
    for (auto r = requires_; r && *r; ++r) {
      if (!registry.find_raw(*r)) return Status::system(name_ + ": service " + *r + " missing at init");
    }
    for (auto p = provides_; p && *p; ++p) {
      std::shared_ptr<TrackedService> service(new TrackedService{name_, *p});
      if (Status s = registry.provide_raw(*p, service, name_); !s) return s;
    }
    host.logger(name_)->info("init");
    record(name_ + " init broker=" + host.identity().broker_name);
    return phase("init");
  }
  Status start() override {
    record(name_ + " start");
    return phase("start");
  }
  void stop() override { record(name_ + " stop"); }

 private:
  Status phase(const std::string& phase) {
    if (throw_in_ == phase) throw std::runtime_error(name_ + " throws in " + phase);
    if (fail_in_ == phase) return Status::system(name_ + " refuses to " + phase);
    return Status::ok();
  }
  std::string name_;
  const char* const* provides_;
  const char* const* requires_;
  std::string fail_in_, throw_in_;
};

}  // namespace mq::test_plugin

// Defines the descriptor of a test plugin. PROVIDES / REQUIRES name nullptr-terminated
// `const char* const[]` arrays defined in the including file.
#define MQ_TEST_PLUGIN(NAME, PROVIDES, REQUIRES, API_VERSION, SIGNATURE)                                   \
  namespace {                                                                                            \
  const mq::test_plugin::UnloadRecorder kUnloadRecorder{NAME};                                           \
  void declare(boost::program_options::options_description& out) {                                       \
    mq::test_plugin::declare_options(NAME, out);                                                         \
  }                                                                                                      \
  mq::Plugin* create() { return new mq::test_plugin::TestPlugin(NAME, PROVIDES, REQUIRES); }             \
  void destroy(mq::Plugin* p) noexcept { delete p; }                                                     \
  const mq::PluginDescriptor kDescriptor{API_VERSION, SIGNATURE, NAME,    "0.0.1", PROVIDES,            \
                                         REQUIRES,    declare,   create, destroy};                       \
  const mq::PluginDescriptor* describe() { return &kDescriptor; }                                        \
  }                                                                                                      \
  MQ_DECLARE_PLUGIN(describe)
