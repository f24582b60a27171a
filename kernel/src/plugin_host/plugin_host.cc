// PluginHost: load, validate, order, start, stop, destroy, unload.
#include "plugin_host/plugin_host.h"

#include <exception>
#include <set>
#include <string_view>

#include "plugin_host/dependency_order.h"

namespace po = boost::program_options;

namespace mq::kernel {
namespace {

std::vector<std::string> name_list(const char* const* names) {
  std::vector<std::string> out;
  for (; names != nullptr && *names != nullptr; ++names) out.emplace_back(*names);
  return out;
}

}  // namespace

PluginHost::PluginHost(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

PluginHost::~PluginHost() {
  shutdown();
}

Status PluginHost::load(const std::string& dir, const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const auto& name : names) {
    auto lib = load_plugin_library(dir, name);
    if (!lib) {
      shutdown();
      return lib.status();
    }
    if (!seen.insert(name).second) {
      shutdown();
      return Status::invalid("plugin '" + name + "' is listed twice in plugins=; list it once");
    }
    log_->info("loaded plugin {} version {} from {}", name, lib->descriptor->version ? lib->descriptor->version : "?",
               lib->path);
    plugins_.push_back(Loaded{std::move(*lib)});
  }
  std::vector<PluginServices> services;
  for (const auto& p : plugins_) {
    services.push_back({p.lib.name, name_list(p.lib.descriptor->provides), name_list(p.lib.descriptor->requires_)});
  }
  auto order = dependency_order(services);
  if (!order) {
    shutdown();
    return order.status();
  }
  order_ = std::move(*order);
  return Status::ok();
}

Status PluginHost::add_options(po::options_description& out) const {
  for (const auto& p : plugins_) {
    const std::string& name = p.lib.name;
    po::options_description group("[" + name + "] options");
    if (p.lib.descriptor->declare_options != nullptr) {
      try {
        p.lib.descriptor->declare_options(group);
      } catch (const std::exception& e) {
        return Status::system("plugin '" + name + "' (" + p.lib.path + "): declare_options threw: " + e.what());
      }
    }
    for (const auto& option : group.options()) {
      const std::string& key = option->long_name();
      if (key.rfind(name + ".", 0) != 0) {
        return Status::invalid("plugin '" + name + "' (" + p.lib.path + ") declares option '" + key +
                               "' outside its section; name it '" + name + "." + key + "'");
      }
    }
    out.add(group);
  }
  return Status::ok();
}

Status PluginHost::run_phase(const char* phase, Loaded& p, HostContext& host) {
  const std::string& name = p.lib.name;
  Status s;
  try {
    if (std::string_view(phase) == "configure") {
      s = p.object->configure(*options_);
    } else if (std::string_view(phase) == "init") {
      s = p.object->init(registry_, host);
    } else {
      p.started = true;
      s = p.object->start();
    }
  } catch (const std::exception& e) {
    s = Status::system(std::string("threw: ") + e.what());
  } catch (...) {
    s = Status::system("threw an unknown exception");
  }
  if (!s) return Status(s.code(), "plugin '" + name + "' " + phase + " failed: " + s.message());
  log_->debug("plugin {} {} ok", name, phase);
  return Status::ok();
}

void PluginHost::adopt_options(const po::variables_map& options) {
  options_ = std::make_unique<po::variables_map>(options);
}

Status PluginHost::start(HostContext& host, const std::function<Status()>& after_init) {
  for (size_t i : order_) {
    Loaded& p = plugins_[i];
    try {
      p.object = p.lib.descriptor->create();
    } catch (const std::exception& e) {
      return Status::system("plugin '" + p.lib.name + "' (" + p.lib.path + "): create() threw: " + e.what());
    }
    if (p.object == nullptr) {
      return Status::system("plugin '" + p.lib.name + "' (" + p.lib.path + "): create() returned no object");
    }
  }
  for (const char* phase : {"configure", "init", "start"}) {
    if (std::string_view(phase) == "start" && after_init) {
      if (Status s = after_init(); !s) {
        log_->error("{}", s.message());
        return s;
      }
    }
    for (size_t i : order_) {
      if (Status s = run_phase(phase, plugins_[i], host); !s) {
        log_->error("{}", s.message());
        stop();
        return s;
      }
    }
  }
  for (size_t i : order_) log_->info("started plugin {}", plugins_[i].lib.name);
  return Status::ok();
}

void PluginHost::stop() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    Loaded& p = plugins_[*it];
    if (!p.started) continue;
    p.started = false;
    try {
      p.object->stop();
      log_->info("stopped plugin {}", p.lib.name);
    } catch (const std::exception& e) {
      log_->error("plugin '{}' stop threw: {}", p.lib.name, e.what());
    } catch (...) {
      log_->error("plugin '{}' stop threw an unknown exception", p.lib.name);
    }
  }
}

void PluginHost::shutdown() {
  stop();
  registry_.clear();
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    Loaded& p = plugins_[*it];
    if (p.object == nullptr) continue;
    p.lib.descriptor->destroy(p.object);
    p.object = nullptr;
  }
  options_ = std::make_unique<po::variables_map>();
  // Users before providers; before ordering (a failed load) in reverse load order.
  std::vector<size_t> unload_order(order_.rbegin(), order_.rend());
  if (unload_order.size() != plugins_.size()) {
    unload_order.clear();
    for (size_t i = plugins_.size(); i-- > 0;) unload_order.push_back(i);
  }
  for (size_t i : unload_order) {
    plugins_[i].lib.library.unload();
    log_->debug("unloaded plugin {}", plugins_[i].lib.name);
  }
  plugins_.clear();
  order_.clear();
}

std::vector<std::string> PluginHost::start_order() const {
  std::vector<std::string> out;
  for (size_t i : order_) out.push_back(plugins_[i].lib.name);
  return out;
}

std::vector<std::string> PluginHost::loaded() const {
  std::vector<std::string> out;
  for (const auto& p : plugins_) out.push_back(p.lib.name);
  return out;
}

}  // namespace mq::kernel
