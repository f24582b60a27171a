// RegistrationService: the broker -> name server registration loop.
#include "broker/registration_service.h"

#include <pthread.h>

namespace mq::kernel {

RegistrationService::RegistrationService(int64_t period_ms, RegistrationFn registration, spdlog::logger& log)
    : period_ms_(period_ms > 0 ? period_ms : 30000),
      registration_(std::move(registration)),
      log_(log) {}

RegistrationService::~RegistrationService() { stop(); }

void RegistrationService::start(Transport& transport, std::vector<std::string> namesrv_addrs) {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  addrs_ = std::move(namesrv_addrs);
  if (addrs_.empty()) {
    log_.info("no namesrvAddr configured; this broker will not register with a name server");
    return;
  }
  transport_ = &transport;
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "broker-register");
    run();
  });
}

void RegistrationService::kick() {
  std::lock_guard lock(mu_);
  kicked_ = true;
  cv_.notify_all();
}

uint64_t RegistrationService::successful_registrations() const {
  std::lock_guard lock(mu_);
  return successes_;
}

void RegistrationService::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    kicked_ = false;
    lock.unlock();
    register_all();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(period_ms_), [this] { return stopping_ || kicked_; });
  }
}

void RegistrationService::register_all() {
  const BrokerRegistration reg = registration_();
  for (const auto& addr : addrs_) {
    auto& client = clients_[addr];
    if (!client) client = transport_->name_server_client(addr);
    Status st = client ? client->register_broker(reg)
                       : Status(Code::kServiceNotAvailable, "the transport gave no client for " + addr);
    auto prev = last_ok_.find(addr);
    if (st.is_ok()) {
      if (prev == last_ok_.end() || !prev->second)
        log_.info("registered broker '{}' ({}) with name server {} ({} topics)", reg.broker_name, reg.broker_addr,
                  addr, reg.topics.size());
      std::lock_guard lock(mu_);
      ++successes_;
    } else if (prev == last_ok_.end() || prev->second) {
      log_.warn("cannot register broker '{}' with name server {}: {}; retrying every {} ms (logged once until it "
                "recovers)", reg.broker_name, addr, st.to_string(), period_ms_);
    }
    last_ok_[addr] = st.is_ok();
  }
}

void RegistrationService::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (!thread_.joinable()) return;
  thread_.join();
  const BrokerRegistration reg = registration_();
  for (auto& [addr, client] : clients_) {
    if (!client) continue;
    Status st = client->unregister_broker(reg.cluster_name, reg.broker_name, reg.broker_id, reg.broker_addr);
    if (!st) log_.info("unregistering from name server {} failed (ignored at shutdown): {}", addr, st.to_string());
  }
  clients_.clear();
}

}  // namespace mq::kernel
