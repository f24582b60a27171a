// Topological sort over provides/requires (Kahn's algorithm, lowest listed index first).
#include "plugin_host/dependency_order.h"

#include <map>
#include <set>

namespace mq::kernel {

Result<std::vector<size_t>> dependency_order(const std::vector<PluginServices>& plugins) {
  std::map<std::string, size_t> provider;
  for (size_t i = 0; i < plugins.size(); ++i) {
    for (const auto& service : plugins[i].provides) provider.emplace(service, i);
  }
  for (const auto& p : plugins) {
    for (const auto& service : p.requires_) {
      if (!provider.count(service)) {
        return Status::invalid("plugin '" + p.name + "' requires service '" + service +
                               "', which no plugin in plugins= provides; add the plugin providing it to plugins=");
      }
    }
  }
  for (size_t i = 0; i < plugins.size(); ++i) {
    for (const auto& service : plugins[i].provides) {
      size_t first = provider.at(service);
      if (first != i) {
        return Status::invalid("service '" + service + "' is provided by both '" + plugins[first].name + "' and '" +
                               plugins[i].name + "'; it is exclusive: load only one of them");
      }
    }
  }

  // edges: provider -> user
  std::vector<std::set<size_t>> users(plugins.size());
  std::vector<size_t> pending(plugins.size(), 0);
  for (size_t i = 0; i < plugins.size(); ++i) {
    std::set<size_t> deps;
    for (const auto& service : plugins[i].requires_) {
      size_t from = provider.at(service);
      if (from != i) deps.insert(from);
      else return Status::invalid("plugin '" + plugins[i].name + "' requires service '" + service +
                                  "', which it provides itself; remove it from its requires list");
    }
    pending[i] = deps.size();
    for (size_t from : deps) users[from].insert(i);
  }
  std::set<size_t> ready;
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (size_t user : users[next]) {
      if (--pending[user] == 0) ready.insert(user);
    }
  }
  if (order.size() != plugins.size()) {
    std::string cycle;
    for (size_t i = 0; i < plugins.size(); ++i) {
      if (pending[i] == 0) continue;
      if (!cycle.empty()) cycle += ", ";
      cycle += plugins[i].name;
    }
    return Status::invalid("plugins " + cycle +
                           " require each other's services in a cycle; break the cycle in their requires lists");
  }
  return order;
}

}  // namespace mq::kernel
