// RegistrationService: announces the broker to every name server, periodically and at
// once when kicked (topic change), and unregisters on stop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "mq/broker_api.h"
#include "mq/transport.h"

namespace mq::kernel {

// Threading: one own thread makes every (blocking) name-server call; kick() and stop()
// are safe from any thread. The Transport must outlive stop().
class RegistrationService {
 public:
  using RegistrationFn = std::function<BrokerRegistration()>;
  RegistrationService(int64_t period_ms, RegistrationFn registration, spdlog::logger& log);
  ~RegistrationService();

  // Starts the thread (registers with each of `namesrv_addrs` at once). A second call is ignored.
  void start(Transport& transport, std::vector<std::string> namesrv_addrs);
  // Registers again as soon as possible.
  void kick();
  // Joins the thread, then unregisters from every name server (best effort).
  void stop();
  // Registrations that succeeded, for diagnostics and tests.
  uint64_t successful_registrations() const;

 private:
  void run();
  void register_all();

  std::vector<std::string> addrs_;  // set by start(), then read by the thread only
  const int64_t period_ms_;
  const RegistrationFn registration_;
  spdlog::logger& log_;
  Transport* transport_ = nullptr;
  // Owned and used only by the registration thread (and by stop() after the join).
  std::map<std::string, std::unique_ptr<NameServerClient>> clients_;
  std::map<std::string, bool> last_ok_;  // per address: state of the last attempt

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool kicked_ = false;   // guarded by mu_
  bool stopping_ = false; // guarded by mu_
  uint64_t successes_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace mq::kernel
