// BrokerProcess / NamesrvProcess: a real mqbroker or mqnamesrv on loopback ephemeral
// ports, configured through a generated config file, for end-to-end tests.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "process.h"

namespace mq::testing {

struct BrokerOptions {
  std::string broker_name = "broker-a";
  bool embedded_namesrv = true;
  std::string namesrv_addr;                      // used when not embedded
  std::map<std::string, std::string> global;     // extra global keys (override defaults)
  std::map<std::string, std::map<std::string, std::string>> sections;  // [plugin] key=value
  std::string plugins = "storage-mmap,transport-thrift";
};

// Owns a store directory that survives restarts of the process.
class BrokerProcess {
 public:
  BrokerProcess(const std::string& root_dir, BrokerOptions options);
  ~BrokerProcess();

  // Starts mqbroker and waits until its ports are known and accept connections.
  // The first start uses port 0 (ephemeral); restarts reuse the ports it got.
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends `sig` and waits for exit; returns the exit code (128+signal when killed).
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends `sig` without waiting (SIGSTOP / SIGCONT to pause and resume the broker).
  void signal(int sig) {
    if (process_) process_->signal(sig);
  }
  // SIGSTOP, then waits until every thread of the broker is stopped (the signal takes
  // effect asynchronously: a thread may still answer a moment after kill() returned).
  void pause(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() { return process_ && process_->running(); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  std::string broker_addr() const { return "127.0.0.1:" + std::to_string(broker_port_); }
  std::string namesrv_addr() const;
  const std::string& store_dir() const { return store_dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string log() const;

 private:
  void write_config();
  std::string root_dir_;
  BrokerOptions options_;
  std::string store_dir_;
  std::string config_path_;
  int broker_port_ = 0;
  int namesrv_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

class NamesrvProcess {
 public:
  explicit NamesrvProcess(const std::string& root_dir);
  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const;

 private:
  std::string root_dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

// A loopback TCP port that was free a moment ago (bind to 0, read, close).
int pick_free_port();
// True once every thread of process `pid` is in the stopped state.
bool all_threads_stopped(pid_t pid);
// True if a TCP connection to 127.0.0.1:port succeeds.
bool port_accepts(int port);

}  // namespace mq::testing
