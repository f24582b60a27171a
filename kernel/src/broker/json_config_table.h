// JsonConfigTable: a name -> config table kept in memory and persisted as one JSON file
// under config/ (shared mechanism of TopicConfigManager and SubscriptionGroupManager).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "broker/json_file.h"
#include "mq/status.h"

namespace mq::kernel {

// Traits supply, as static members:
//   const char* kKind;          // "topic": used in log lines and error messages
//   const char* kRootKey;       // "topicConfigTable": key of the table in the file
//   const char* kLayoutHint;    // the expected layout, quoted when the file does not match it
//   bool kSkipEmptyMissingFile; // persist() writes nothing for an unchanged empty table without a file
//   const std::string& name(const Config&);
//   Status validate(const Config&);
//   Config from_json(const std::string& name, const nlohmann::json& entry);  // may throw json exceptions
//   nlohmann::json to_json(const std::string& name, const Config&);
//   std::string describe(const Config&);             // settings logged on create_or_update
//   std::string auto_created_detail(const Config&);  // appended to the "auto-created" log line
//
// Threading: every method is safe from any thread. The table lock is never held across
// file I/O or the change callback; persist() calls are serialized by their own lock.
template <typename Config, typename Traits>
class JsonConfigTable {
 public:
  JsonConfigTable(std::filesystem::path file, spdlog::logger& log) : file_(std::move(file)), log_(log) {}

  // Reads the file (or its .bak); a missing file is an empty table.
  Status load() {
    auto loaded = load_json_with_backup(file_, log_);
    if (!loaded) return loaded.status();
    std::map<std::string, Config> table;
    if (loaded->has_value()) {
      try {
        const nlohmann::json& entries = (**loaded).at(Traits::kRootKey);
        for (auto it = entries.begin(); it != entries.end(); ++it) {
          Config c = Traits::from_json(it.key(), it.value());
          if (Status st = Traits::validate(c); !st)
            return Status::system(file_.string() + ": " + Traits::kKind + " '" + it.key() + "': " + st.message());
          table.emplace(Traits::name(c), c);
        }
      } catch (const nlohmann::json::exception& e) {
        return Status::system(file_.string() + " has an unexpected layout (" + e.what() + "); expected " +
                              Traits::kLayoutHint);
      }
    }
    std::lock_guard lock(mu_);
    entries_ = std::move(table);
    return Status::ok();
  }

  // Called (outside any lock) after every change of the table. Set before concurrent use.
  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

  std::optional<Config> find(const std::string& name) const {
    std::shared_lock lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

  // Validates and creates or replaces the entry; an identical entry is not a change.
  Status create_or_update(const Config& config) {
    if (Status st = Traits::validate(config); !st) return st;
    const std::string& name = Traits::name(config);
    {
      std::lock_guard lock(mu_);
      auto [it, inserted] = entries_.try_emplace(name, config);
      if (!inserted) {
        if (it->second == config) return Status::ok();
        it->second = config;
      }
      ++version_;
    }
    log_.info("{} '{}' set: {}", Traits::kKind, name, Traits::describe(config));
    changed();
    return Status::ok();
  }

  // Returns the entry, inserting make() (not validated) when absent.
  template <typename Make>
  Config create_if_absent(const std::string& name, Make&& make) {
    Config config;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(name);
      if (it != entries_.end()) return it->second;
      config = make();
      entries_.emplace(name, config);
      ++version_;
    }
    log_.info("{} '{}' auto-created{}", Traits::kKind, name, Traits::auto_created_detail(config));
    changed();
    return config;
  }

  // Removes the entry; false when it did not exist.
  bool remove(const std::string& name) {
    {
      std::lock_guard lock(mu_);
      if (entries_.erase(name) == 0) return false;
      ++version_;
    }
    log_.info("{} '{}' deleted", Traits::kKind, name);
    changed();
    return true;
  }

  std::vector<Config> all() const {  // sorted by name
    std::shared_lock lock(mu_);
    std::vector<Config> out;
    out.reserve(entries_.size());
    for (const auto& [name, c] : entries_) out.push_back(c);
    return out;
  }

  size_t size() const {
    std::shared_lock lock(mu_);
    return entries_.size();
  }

  // Writes the table if it changed since the last successful write (or its file is missing).
  Status persist() {
    std::lock_guard persist_lock(persist_mu_);
    nlohmann::json table = nlohmann::json::object();
    uint64_t version = 0;
    std::error_code ec;
    const bool file_exists = std::filesystem::exists(file_, ec);
    {
      std::shared_lock lock(mu_);
      version = version_;
      const bool nothing_to_create = file_exists || (Traits::kSkipEmptyMissingFile && entries_.empty());
      if (version == persisted_version_ && nothing_to_create) return Status::ok();
      for (const auto& [name, c] : entries_) table[name] = Traits::to_json(name, c);
    }
    nlohmann::json root = {{Traits::kRootKey, std::move(table)}, {"dataVersion", version}};
    // `replace`: never throws on bytes that are not UTF-8 (names are validated ASCII anyway).
    const std::string text = root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    if (Status st = write_file_atomically(file_, text); !st) return st;
    persisted_version_ = version;
    return Status::ok();
  }

  const std::filesystem::path& file() const { return file_; }

 private:
  void changed() {
    if (on_change_) on_change_();
  }

  const std::filesystem::path file_;
  spdlog::logger& log_;
  // Shared for readers: every send looks its topic up here, from every io thread at once,
  // and with an exclusive lock those lookups queued behind each other (a futex sleep and a
  // cross-CPU wake-up per collision).
  mutable std::shared_mutex mu_;
  std::map<std::string, Config> entries_;  // guarded by mu_
  uint64_t version_ = 0;                   // guarded by mu_; bumped on every change
  std::function<void()> on_change_;        // set before start
  std::mutex persist_mu_;
  uint64_t persisted_version_ = 0;  // guarded by persist_mu_
};

}  // namespace mq::kernel
