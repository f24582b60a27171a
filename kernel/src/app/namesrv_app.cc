// NamesrvApp: mqnamesrv's start-up and graceful shutdown.
#include "app/namesrv_app.h"

#include "app/port_file.h"
#include "config/broker_options.h"

namespace mq::kernel {

NamesrvApp::NamesrvApp(std::vector<std::string> args) : args_(std::move(args)) {}

NamesrvApp::~NamesrvApp() { stop(); }

Status NamesrvApp::start() {
  auto loaded = load_config("mqnamesrv", "mqnamesrv [-c FILE] [--key=value ...] (command-line keys override FILE)",
                            args_, namesrv_global_options(default_plugin_dir()));
  if (!loaded) return loaded.status();
  loaded_ = std::move(*loaded);
  if (!loaded_.help_text.empty()) {
    help_text_ = loaded_.help_text;
    return Status::ok();
  }
  auto config = namesrv_config_from(loaded_.host->options());
  if (!config) return config.status();
  config_ = std::move(*config);
  log_ = loaded_.sinks->logger("namesrv");
  BrokerIdentity identity;
  identity.cluster_name.clear();
  identity.broker_name.clear();
  host_context_ = std::make_unique<KernelHostContext>(identity, loaded_.sinks);

  if (Status s = loaded_.host->start(*host_context_); !s) {
    stop();
    return s;
  }
  if (Status s = start_serving(); !s) {
    stop();
    return s;
  }
  return Status::ok();
}

Status NamesrvApp::start_serving() {
  transport_ = loaded_.host->registry().find<Transport>();
  if (!transport_) return Status::invalid("no plugin provides Transport: add transport-thrift to plugins=");
  core_ = std::make_unique<NameServerCore>(config_.settings, log_);
  core_->start();
  auto server = transport_->serve_name_server(*core_, "0.0.0.0", config_.listen_port);
  if (!server) {
    return Status(server.status().code(), "name server on port " + std::to_string(config_.listen_port) + ": " +
                                              server.status().message() + "; change listenPort=");
  }
  server_ = std::move(*server);
  port_ = server_->port();
  if (!config_.port_file.empty()) {
    if (Status s = write_port_file(config_.port_file, port_); !s) return s;
  }
  log_->info("name server serving on port {}", port_);
  return Status::ok();
}

void NamesrvApp::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
  if (core_) {
    core_->stop();
    core_.reset();
  }
  transport_.reset();
  if (loaded_.host) {
    loaded_.host.reset();  // stops the plugins in reverse, destroys them, unloads
    if (log_) log_->info("name server stopped");
  }
}

}  // namespace mq::kernel
