// BrokerApp: mqbroker's start-up and graceful shutdown.
#include "app/broker_app.h"

#include <filesystem>

#include "app/port_file.h"

namespace mq::kernel {

BrokerApp::BrokerApp(std::vector<std::string> args) : args_(std::move(args)) {}

BrokerApp::~BrokerApp() {
  stop();
}

Status BrokerApp::start() {
  auto loaded = load_config("mqbroker", "mqbroker -c FILE [--key=value ...] (command-line keys override FILE)", args_,
                            broker_global_options(default_plugin_dir()));
  if (!loaded) return loaded.status();
  loaded_ = std::move(*loaded);
  if (!loaded_.help_text.empty()) {
    help_text_ = loaded_.help_text;
    return Status::ok();
  }
  auto config = broker_config_from(loaded_.host->options());
  if (!config) return config.status();
  config_ = std::move(*config);
  log_ = loaded_.sinks->logger("broker");
  if (config_.listen_port == 0) {
    auto reserved = PortReservation::reserve_any();
    if (!reserved) return reserved.status();
    reserved_port_.emplace(std::move(*reserved));
    config_.listen_port = reserved_port_->port();
    config_.settings.identity.broker_address.port = config_.listen_port;
  }
  host_context_ = std::make_unique<KernelHostContext>(config_.settings.identity, loaded_.sinks);

  hooks_ = std::make_shared<HookCollector>();
  context_ = std::make_shared<BrokerContextProxy>();
  if (Status s = provide_kernel_services(loaded_.host->registry(), hooks_, context_); !s) {
    stop();
    return s;
  }
  if (Status s = loaded_.host->start(*host_context_, [this] { return start_core(); }); !s) {
    stop();
    return s;
  }
  if (Status s = start_serving(); !s) {
    stop();
    return s;
  }
  return Status::ok();
}

// Runs after every plugin's init() and before any start(): the core serves BrokerContext
// to the plugins' start() and threads.
Status BrokerApp::start_core() {
  ServiceRegistry& registry = loaded_.host->registry();
  store_ = registry.find<MessageStore>();
  if (!store_) return Status::invalid("no plugin provides MessageStore: add storage-mmap to plugins=");
  transport_ = registry.find<Transport>();
  if (!transport_) return Status::invalid("no plugin provides Transport: add transport-thrift to plugins=");

  const std::string& root = config_.settings.identity.store_root;
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Status::system("storePathRootDir '" + root + "': cannot create: " + ec.message());
  core_ = std::make_unique<BrokerCore>(config_.settings, store_, log_, hooks_->snapshot(registry));
  if (Status s = core_->start(); !s) return s;
  context_->bind(core_.get());
  return Status::ok();
}

Status BrokerApp::start_serving() {
  BrokerSettings settings = config_.settings;
  const std::string& root = settings.identity.store_root;

  if (config_.embedded_namesrv_enable) {
    namesrv_ = std::make_unique<NameServerCore>(NameServerSettings{}, loaded_.sinks->logger("namesrv"));
    namesrv_->start();
    auto server = transport_->serve_name_server(*namesrv_, "0.0.0.0", config_.namesrv_listen_port);
    if (!server) {
      return Status(server.status().code(), "embedded name server on port " +
                                                std::to_string(config_.namesrv_listen_port) + ": " +
                                                server.status().message() + "; change namesrvListenPort=");
    }
    namesrv_server_ = std::move(*server);
    namesrv_port_ = namesrv_server_->port();
    if (settings.namesrv_addrs.empty()) settings.namesrv_addrs.push_back("127.0.0.1:" + std::to_string(namesrv_port_));
    if (Status s = write_port_file(root + "/namesrv.port", namesrv_port_); !s) return s;
    log_->info("embedded name server serving on port {}", namesrv_port_);
  }

  if (Status s = serve_broker(); !s) return s;
  core_->start_registration(*transport_, settings.namesrv_addrs);
  if (Status s = write_port_file(root + "/broker.port", broker_port_); !s) return s;

  std::string addrs;
  for (const auto& a : settings.namesrv_addrs) addrs += (addrs.empty() ? "" : ";") + a;
  log_->info("broker {} serving on {}:{}, name server(s) {}", settings.identity.broker_name, config_.broker_ip,
             broker_port_, addrs.empty() ? "(none)" : addrs);
  return Status::ok();
}

Status BrokerApp::serve_broker() {
  auto server = transport_->serve_broker(*core_, "0.0.0.0", config_.listen_port);
  if (!server && reserved_port_) {  // the transport may not bind next to the reservation
    reserved_port_.reset();
    server = transport_->serve_broker(*core_, "0.0.0.0", config_.listen_port);
  }
  reserved_port_.reset();
  if (!server) {
    return Status(server.status().code(), "broker on port " + std::to_string(config_.listen_port) + ": " +
                                              server.status().message() + "; change listenPort=");
  }
  broker_server_ = std::move(*server);
  broker_port_ = broker_server_->port();
  return Status::ok();
}

void BrokerApp::stop() {
  reserved_port_.reset();
  if (broker_server_) {
    broker_server_->stop();
    broker_server_.reset();
  }
  if (context_) context_->unbind();
  if (core_) {
    core_->stop();
    core_.reset();
  }
  if (namesrv_server_) {
    namesrv_server_->stop();
    namesrv_server_.reset();
  }
  if (namesrv_) {
    namesrv_->stop();
    namesrv_.reset();
  }
  store_.reset();
  transport_.reset();
  // The hooks are plugin-made objects: the collector must go with the registry (cleared by
  // the host before it unloads), not after the libraries, or their destructors are gone.
  hooks_.reset();
  if (loaded_.host) {
    loaded_.host.reset();  // stops the plugins in reverse, destroys them, unloads
    if (log_) log_->info("broker stopped");
  }
}

}  // namespace mq::kernel
