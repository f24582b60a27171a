// ChildProcess: a real process started by a test (mqbroker, mqnamesrv, mqadmin), with
// its output captured to a log file, signalled and reaped for real.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace mq::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_path`. Throws std::runtime_error.
  ChildProcess(std::vector<std::string> argv, std::string log_path, std::string working_dir = {});
  // Kills (SIGKILL) and reaps the process if it is still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit; returns the exit status (WEXITSTATUS, or 128+signal) or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  const std::string& log_path() const { return log_path_; }
  std::string log() const;  // the captured output so far

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Runs a command to completion and returns (exit code, combined output). Throws on timeout.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::vector<std::string>& extra_env = {});

// The build directory (env MQ_BUILD_DIR, set by CTest) and its bin/ folder.
std::string build_dir();
std::string bin_path(const std::string& name);

// A fresh directory under /tmp, removed by the destructor unless MQ_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "mqtest");
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Polls `predicate` every 20 ms until it is true or `timeout` passes.
template <typename Pred>
bool eventually(Pred predicate, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    ::usleep(20 * 1000);
  }
  return predicate();
}

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace mq::testing
