// ThriftTransport: wires handlers, generated processors and FrameServer together.
#include "thrift_transport.h"

#include "BrokerService.h"
#include "NameServerService.h"
#include "broker_handler.h"
#include "channel_name_server_client.h"
#include "name_server_handler.h"

namespace mq::transport_thrift {

ThriftTransport::ThriftTransport(const TransportOptions& options, std::shared_ptr<spdlog::logger> logger)
    : options_(options),
      logger_(std::move(logger)),
      pool_(options.io_threads, std::chrono::microseconds(options.busy_poll_micros), options.io_thread_affinity,
            logger_) {}

ThriftTransport::~ThriftTransport() {
  stop();
}

void ThriftTransport::start() {
  pool_.start();
}

void ThriftTransport::stop() {
  std::vector<std::weak_ptr<ServerCore>> servers;
  {
    std::lock_guard lock(mu_);
    servers.swap(servers_);
  }
  for (const auto& server : servers) stop_server_core(server);
  pool_.stop();
}

Result<std::unique_ptr<Server>> ThriftTransport::serve_broker(BrokerApi& api, const std::string& host, uint16_t port) {
  auto processor = std::make_shared<wire::BrokerServiceAsyncProcessor>(std::make_shared<BrokerHandler>(api, logger_));
  return serve(std::move(processor), host, port, "broker");
}

Result<std::unique_ptr<Server>> ThriftTransport::serve_name_server(NameServerApi& api, const std::string& host,
                                                                   uint16_t port) {
  auto processor =
      std::make_shared<wire::NameServerServiceAsyncProcessor>(std::make_shared<NameServerHandler>(api, logger_));
  return serve(std::move(processor), host, port, "name server");
}

Result<std::unique_ptr<Server>> ThriftTransport::serve(
    std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor, const std::string& host, uint16_t port,
    const char* kind) {
  if (!pool_.running()) {
    return Status::error(Code::kServiceNotAvailable, std::string("transport-thrift cannot serve the ") + kind + " on " +
                                                         host + ":" + std::to_string(port) +
                                                         ": the plugin is not started");
  }
  FrameServerOptions server_options{options_.max_frame_size, options_.max_connections,
                                    options_.max_inflight_per_connection, options_.max_pending_reply_bytes};
  auto server = FrameServer::listen(pool_, std::move(processor), host, port, server_options, logger_, kind);
  if (!server) return server.status();
  {
    std::lock_guard lock(mu_);
    std::erase_if(servers_, [](const auto& weak) { return weak.expired(); });
    servers_.push_back((*server)->core());
  }
  return std::unique_ptr<Server>(std::move(server).value());
}

std::unique_ptr<NameServerClient> ThriftTransport::name_server_client(const std::string& address) {
  // Replies (routes, cluster info) are bounded by the channel's own frame limit, not ours.
  return std::make_unique<ChannelNameServerClient>(address, wire::ChannelOptions{});
}

}  // namespace mq::transport_thrift
