// Reading a plugin's "<plugin>.<key>" options from the broker's variables_map, shared by every
// plugin so each one names keys and reports bad values the same way:
//   "[<plugin>] <key>=<value> is not allowed: <what is allowed>".
// Header-only (plugins share code only through kernel/include/mq). Stateless; any thread.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <boost/any.hpp>
#include <boost/program_options.hpp>

#include "mq/status.h"

namespace mq {

class PluginOptions {
 public:
  explicit constexpr PluginOptions(std::string_view plugin) : plugin_(plugin) {}

  // "<plugin>.<k>", the name the option is declared and looked up under.
  std::string key(std::string_view k) const {
    std::string out(plugin_);
    out += '.';
    out += k;
    return out;
  }

  // The standard error for a value outside what the key allows.
  Status bad(std::string_view k, const std::string& value, const std::string& allowed) const {
    return Status::invalid(prefix() + std::string(k) + "=" + value + " is not allowed: " + allowed);
  }

  // Integer option declared as int64_t (an int, or a string from a caller that did not use the
  // plugin's declarations, is accepted too). Absent or empty keeps *out.
  Status read_int(const boost::program_options::variables_map& vm, std::string_view k, int64_t* out) const {
    const boost::any* v = find(vm, k);
    if (v == nullptr) return Status::ok();
    if (const auto* p = boost::any_cast<int64_t>(v)) {
      *out = *p;
    } else if (const auto* p32 = boost::any_cast<int>(v)) {
      *out = *p32;
    } else if (const auto* s = boost::any_cast<std::string>(v)) {
      try {
        size_t used = 0;
        *out = std::stoll(*s, &used);
        if (used != s->size()) return bad(k, *s, "an integer");
      } catch (const std::exception&) {
        return bad(k, *s, "an integer");
      }
    } else {
      return unexpected_type(k, "int64");
    }
    return Status::ok();
  }

  // Boolean option declared as bool ("true"/"1"/"false"/"0" as a string too). Absent keeps *out.
  Status read_bool(const boost::program_options::variables_map& vm, std::string_view k, bool* out) const {
    const boost::any* v = find(vm, k);
    if (v == nullptr) return Status::ok();
    if (const auto* b = boost::any_cast<bool>(v)) {
      *out = *b;
    } else if (const auto* s = boost::any_cast<std::string>(v)) {
      if (*s == "true" || *s == "1") {
        *out = true;
      } else if (*s == "false" || *s == "0") {
        *out = false;
      } else {
        return bad(k, *s, "true or false");
      }
    } else {
      return unexpected_type(k, "bool");
    }
    return Status::ok();
  }

  // String option. Absent keeps *out.
  Status read_string(const boost::program_options::variables_map& vm, std::string_view k, std::string* out) const {
    const boost::any* v = find(vm, k);
    if (v == nullptr) return Status::ok();
    if (const auto* s = boost::any_cast<std::string>(v)) {
      *out = *s;
      return Status::ok();
    }
    return unexpected_type(k, "string");
  }

 private:
  // "[<plugin>] ", built by appending (GCC 12 warns falsely on "[" + std::string).
  std::string prefix() const {
    std::string out("[");
    out += plugin_;
    out += "] ";
    return out;
  }

  const boost::any* find(const boost::program_options::variables_map& vm, std::string_view k) const {
    auto it = vm.find(key(k));
    if (it == vm.end() || it->second.empty()) return nullptr;
    return &it->second.value();
  }

  Status unexpected_type(std::string_view k, const char* type) const {
    return Status::invalid(prefix() + std::string(k) + " has an unexpected type; declare it as " + type);
  }

  std::string_view plugin_;
};

}  // namespace mq
