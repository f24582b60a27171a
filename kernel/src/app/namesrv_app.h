// NamesrvApp: everything mqnamesrv does between parsing its arguments and exiting.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/config_loader.h"
#include "app/kernel_host_context.h"
#include "config/namesrv_options.h"
#include "mq/transport.h"
#include "namesrv/name_server_core.h"

namespace mq::kernel {

// Lifecycle: start() -> [serving] -> stop() (also run by the destructor). Main thread only.
class NamesrvApp {
 public:
  explicit NamesrvApp(std::vector<std::string> args);
  ~NamesrvApp();
  NamesrvApp(const NamesrvApp&) = delete;
  NamesrvApp& operator=(const NamesrvApp&) = delete;

  // On error everything already started is stopped; the Status is the one-line reason.
  Status start();
  void stop();  // idempotent

  const std::string& help_text() const { return help_text_; }
  uint16_t port() const { return port_; }
  NameServerCore* core() { return core_.get(); }

 private:
  Status start_serving();

  std::vector<std::string> args_;
  std::string help_text_;
  NamesrvConfig config_;
  uint16_t port_ = 0;

  // Everything below `loaded_` may hold plugin-made objects and goes before the libraries.
  LoadedConfig loaded_;
  std::unique_ptr<KernelHostContext> host_context_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<Transport> transport_;
  std::unique_ptr<NameServerCore> core_;
  std::unique_ptr<Server> server_;
};

}  // namespace mq::kernel
