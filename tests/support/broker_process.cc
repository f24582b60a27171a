// Real-process launchers for mqbroker and mqnamesrv used by end-to-end tests.
#include "broker_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <stdexcept>

namespace mq::testing {

bool all_threads_stopped(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  size_t seen = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');  // "pid (comm) S ..."
    if (close == std::string::npos || close + 2 >= stat.size()) return false;
    const char state = stat[close + 2];
    if (state != 'T' && state != 't') return false;
    ++seen;
  }
  return !ec && seen > 0;
}

void BrokerProcess::pause(std::chrono::milliseconds timeout) {
  signal(SIGSTOP);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!all_threads_stopped(pid())) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("broker " + options_.broker_name + " did not stop after SIGSTOP");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind an ephemeral port");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

namespace {

int read_port_file(const std::string& path) {
  std::string text = read_file(path);
  try {
    return text.empty() ? 0 : std::stoi(text);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

BrokerProcess::BrokerProcess(const std::string& root_dir, BrokerOptions options)
    : root_dir_(root_dir), options_(std::move(options)) {
  store_dir_ = root_dir_ + "/" + options_.broker_name + "/store";
  config_path_ = root_dir_ + "/" + options_.broker_name + "/broker.conf";
  std::filesystem::create_directories(store_dir_);
}

BrokerProcess::~BrokerProcess() = default;

std::string BrokerProcess::namesrv_addr() const {
  return options_.embedded_namesrv ? "127.0.0.1:" + std::to_string(namesrv_port_) : options_.namesrv_addr;
}

std::string BrokerProcess::log() const { return process_ ? process_->log() : std::string(); }

void BrokerProcess::write_config() {
  std::map<std::string, std::string> global = {
      {"brokerClusterName", "TestCluster"},
      {"brokerName", options_.broker_name},
      {"brokerId", "0"},
      {"brokerIP1", "127.0.0.1"},
      {"listenPort", std::to_string(broker_port_)},
      {"storePathRootDir", store_dir_},
      {"plugins", options_.plugins},
  };
  if (options_.embedded_namesrv) {
    global["embeddedNamesrvEnable"] = "true";
    global["namesrvListenPort"] = std::to_string(namesrv_port_);
  } else {
    global["namesrvAddr"] = options_.namesrv_addr;
  }
  for (const auto& [k, v] : options_.global) global[k] = v;
  std::ostringstream out;
  for (const auto& [k, v] : global) out << k << "=" << v << "\n";
  // Test brokers keep their disk footprint small (segments and index files are reserved on
  // disk up front); a test that needs other sizes sets them in options_.sections.
  auto sections = options_.sections;
  if (options_.plugins.find("storage-mmap") != std::string::npos) {
    auto& store = sections["storage-mmap"];
    store.try_emplace("mapedFileSizeCommitLog", std::to_string(64 << 20));
    store.try_emplace("maxHashSlotNum", "50000");
    store.try_emplace("maxIndexNum", "200000");
  }
  for (const auto& [section, keys] : sections) {
    out << "\n[" << section << "]\n";
    for (const auto& [k, v] : keys) out << k << "=" << v << "\n";
  }
  write_file(config_path_, out.str());
}

void BrokerProcess::start(std::chrono::milliseconds timeout) {
  write_config();
  std::string broker_port_file = store_dir_ + "/broker.port";
  std::string namesrv_port_file = store_dir_ + "/namesrv.port";
  std::filesystem::remove(broker_port_file);
  std::filesystem::remove(namesrv_port_file);
  std::string log_path = root_dir_ + "/" + options_.broker_name + "/broker-" + std::to_string(starts_++) + ".log";
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{bin_path("mqbroker"), "-c", config_path_},
                                            log_path);
  bool up = eventually(
      [&] {
        if (!process_->running()) return true;  // fail fast below
        int bp = read_port_file(broker_port_file);
        int np = options_.embedded_namesrv ? read_port_file(namesrv_port_file) : 1;
        return bp > 0 && np > 0 && port_accepts(bp) && (!options_.embedded_namesrv || port_accepts(np));
      },
      timeout);
  if (!process_->running()) throw std::runtime_error("mqbroker exited during start-up:\n" + process_->log());
  if (!up) throw std::runtime_error("mqbroker did not come up in time:\n" + process_->log());
  broker_port_ = read_port_file(broker_port_file);
  if (options_.embedded_namesrv) namesrv_port_ = read_port_file(namesrv_port_file);
}

int BrokerProcess::stop(int sig, std::chrono::milliseconds timeout) {
  if (!process_) return -1;
  process_->signal(sig);
  auto code = process_->wait(timeout);
  if (!code) throw std::runtime_error("mqbroker did not exit after signal " + std::to_string(sig));
  return *code;
}

NamesrvProcess::NamesrvProcess(const std::string& root_dir) : root_dir_(root_dir) {
  std::filesystem::create_directories(root_dir_);
}

void NamesrvProcess::start(std::chrono::milliseconds timeout) {
  if (port_ == 0) port_ = pick_free_port();
  std::string conf = root_dir_ + "/namesrv.conf";
  write_file(conf, "listenPort=" + std::to_string(port_) + "\nplugins=transport-thrift\n");
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{bin_path("mqnamesrv"), "-c", conf},
                                            root_dir_ + "/namesrv.log");
  bool up = eventually([&] { return !process_->running() || port_accepts(port_); }, timeout);
  if (!process_->running()) throw std::runtime_error("mqnamesrv exited during start-up:\n" + process_->log());
  if (!up) throw std::runtime_error("mqnamesrv did not come up in time:\n" + process_->log());
}

int NamesrvProcess::stop(int sig, std::chrono::milliseconds timeout) {
  process_->signal(sig);
  auto code = process_->wait(timeout);
  if (!code) throw std::runtime_error("mqnamesrv did not exit after signal " + std::to_string(sig));
  return *code;
}

std::string NamesrvProcess::log() const { return process_ ? process_->log() : std::string(); }

}  // namespace mq::testing
