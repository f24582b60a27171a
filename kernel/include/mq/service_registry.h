// The service registry: where plugins and the kernel publish the interfaces they
// provide and find the ones they need. Services are keyed by their kServiceName.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mq/status.h"

namespace mq {

// Every service interface declares `static constexpr std::string_view kServiceName`.
// A name maps to exactly one C++ type, so lookups cast without RTTI across libraries.
// Threading: register during init() only; lookups are safe from any thread afterwards.
// Ownership: the registry keeps a shared_ptr; providers must outlive their users, which
// the kernel's start/stop ordering guarantees. The kernel clears the registry before it
// unloads any library.
class ServiceRegistry {
 public:
  // Fails if the name is already provided (every service in v1 is exclusive).
  template <typename T>
  Status provide(std::shared_ptr<T> service, std::string_view provider) {
    return provide_raw(T::kServiceName, std::static_pointer_cast<void>(std::move(service)), provider);
  }
  // nullptr when no loaded plugin provides it.
  template <typename T>
  std::shared_ptr<T> find() const {
    return std::static_pointer_cast<T>(find_raw(T::kServiceName));
  }
  // Every registered name with its provider, for diagnostics.
  std::vector<std::pair<std::string, std::string>> list() const {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, entry] : entries_) out.emplace_back(name, entry.provider);
    return out;
  }
  void clear() {
    std::lock_guard lock(mu_);
    entries_.clear();
  }

  Status provide_raw(std::string_view name, std::shared_ptr<void> service, std::string_view provider) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = entries_.try_emplace(std::string(name), Entry{std::move(service), std::string(provider)});
    if (!inserted) {
      return Status::invalid("service '" + std::string(name) + "' is provided by both '" + it->second.provider +
                             "' and '" + std::string(provider) + "'; load only one of them");
    }
    return Status::ok();
  }
  std::shared_ptr<void> find_raw(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second.service;
  }

 private:
  struct Entry {
    std::shared_ptr<void> service;
    std::string provider;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace mq
