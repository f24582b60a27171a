// BrokerApp: everything mqbroker does between parsing its arguments and exiting, as a
// testable class (main only waits for a signal).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/config_loader.h"
#include "app/kernel_host_context.h"
#include "app/port_reservation.h"
#include "broker/broker_core.h"
#include "broker/plugin_services.h"
#include "config/broker_options.h"
#include "mq/message_store.h"
#include "mq/transport.h"
#include "namesrv/name_server_core.h"

namespace mq::kernel {

// Lifecycle: start() -> [serving] -> stop() (also run by the destructor). Threading: main
// thread only. Start-up: config -> (listenPort=0: reserve a free port, so the identity the
// plugins get carries it) -> kernel services into the registry -> plugins configure and
// init -> BrokerCore starts -> plugins start -> optional embedded name server -> serve the
// broker -> register with the name servers.
class BrokerApp {
 public:
  explicit BrokerApp(std::vector<std::string> args);
  ~BrokerApp();
  BrokerApp(const BrokerApp&) = delete;
  BrokerApp& operator=(const BrokerApp&) = delete;

  // On error everything already started is stopped and the Status is the one-line reason.
  // When --help was given, nothing is started and help_text() is set.
  Status start();
  // Stops accepting, stops the core (drains held pulls, persists offsets), the embedded
  // name server, then the plugins in reverse, and unloads them. Idempotent.
  void stop();

  const std::string& help_text() const { return help_text_; }
  uint16_t broker_port() const { return broker_port_; }
  uint16_t namesrv_port() const { return namesrv_port_; }  // 0 when not embedded
  const BrokerConfig& config() const { return config_; }
  NameServerCore* embedded_name_server() { return namesrv_.get(); }  // null when not embedded

 private:
  Status start_core();
  Status start_serving();
  Status serve_broker();

  std::vector<std::string> args_;
  std::optional<PortReservation> reserved_port_;  // listenPort=0 until the broker listens
  std::string help_text_;
  BrokerConfig config_;
  uint16_t broker_port_ = 0;
  uint16_t namesrv_port_ = 0;

  // Declaration order is the reverse of destruction order: everything below `loaded_`
  // may hold plugin-made objects and must go before the libraries.
  LoadedConfig loaded_;
  std::unique_ptr<KernelHostContext> host_context_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<MessageStore> store_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<HookCollector> hooks_;
  std::shared_ptr<BrokerContextProxy> context_;
  std::unique_ptr<NameServerCore> namesrv_;
  std::unique_ptr<Server> namesrv_server_;
  std::unique_ptr<BrokerCore> core_;
  std::unique_ptr<Server> broker_server_;
};

}  // namespace mq::kernel
