// ThriftTransport: the mq::Transport service. Owns the io threads; serves BrokerApi and
// NameServerApi over framed binary Thrift and builds name-server clients.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>

#include "frame_server.h"
#include "io_pool.h"
#include "mq/transport.h"
#include "transport_options.h"

namespace mq::transport_thrift {

// Threading: serve_*/name_server_client from any thread; start()/stop() from the plugin's
// controlling thread. stop() stops servers still open (users should have stopped them),
// then joins the io threads.
class ThriftTransport final : public Transport {
 public:
  ThriftTransport(const TransportOptions& options, std::shared_ptr<spdlog::logger> logger);
  ~ThriftTransport() override;

  void start();
  void stop();

  Result<std::unique_ptr<Server>> serve_broker(BrokerApi& api, const std::string& host, uint16_t port) override;
  Result<std::unique_ptr<Server>> serve_name_server(NameServerApi& api, const std::string& host,
                                                    uint16_t port) override;
  std::unique_ptr<NameServerClient> name_server_client(const std::string& address) override;

 private:
  Result<std::unique_ptr<Server>> serve(std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor,
                                        const std::string& host, uint16_t port, const char* kind);

  TransportOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  IoPool pool_;
  std::mutex mu_;
  std::vector<std::weak_ptr<ServerCore>> servers_;  // guarded by mu_
};

}  // namespace mq::transport_thrift
