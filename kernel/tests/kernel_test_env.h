// Helpers for the kernel's loader/config/app tests: temp dirs, config files, the test
// plugin directory and the plugins' event record file.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mq::kernel::testing {

// A fresh directory under /tmp, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = "/tmp/mq-kernel-test-XXXXXX";
    char* made = mkdtemp(templ.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }

 private:
  std::string path_;
};

// $MQ_BUILD_DIR/test-plugins (set by ctest; falls back to the build tree next to the test).
inline std::string test_plugin_dir() {
  const char* build = std::getenv("MQ_BUILD_DIR");
  if (build != nullptr) return std::string(build) + "/test-plugins";
  return (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "test-plugins").string();
}

// Points $MQ_TEST_PLUGIN_RECORD at a fresh file for the test plugins to append events to.
class EventRecord {
 public:
  explicit EventRecord(const TempDir& dir) : path_(dir.file("events.txt")) {
    setenv("MQ_TEST_PLUGIN_RECORD", path_.c_str(), 1);
  }
  ~EventRecord() { unsetenv("MQ_TEST_PLUGIN_RECORD"); }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // The recorded lines that end with " <event>" (e.g. "start"), in order.
  std::vector<std::string> events(const std::string& event) const {
    std::vector<std::string> out;
    const std::string suffix = " " + event;
    for (const auto& l : lines()) {
      if (l.size() > suffix.size() && l.compare(l.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(l);
      }
    }
    return out;
  }
  // Index of the first line equal to `line`, or -1.
  int index_of(const std::string& line) const {
    auto all = lines();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i] == line) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  std::string path_;
};

}  // namespace mq::kernel::testing
