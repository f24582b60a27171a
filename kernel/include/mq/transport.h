// Transport: the network service interface (provided by transport-thrift). It serves the
// kernel's BrokerApi / NameServerApi to clients and gives the kernel clients for calls it
// makes itself (broker -> name server registration).
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mq/broker_api.h"
#include "mq/status.h"

namespace mq {

// A running listener. Destroying it (or stop()) closes the socket and every connection.
class BOOST_SYMBOL_VISIBLE Server {
 public:
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;  // the bound port (useful when 0 was requested)
  virtual void stop() = 0;            // idempotent; returns after connections are closed
};

// A synchronous client of one name server. Calls block the calling thread (the kernel
// calls it from its own registration thread, never from a transport thread).
class BOOST_SYMBOL_VISIBLE NameServerClient {
 public:
  virtual ~NameServerClient() = default;
  virtual Status register_broker(const BrokerRegistration& registration) = 0;
  virtual Status unregister_broker(const std::string& cluster_name, const std::string& broker_name,
                                   int64_t broker_id, const std::string& broker_addr) = 0;
};

// Threading: safe from any thread. Lifetime: servers and clients it returns must be
// destroyed before the providing plugin stops.
class BOOST_SYMBOL_VISIBLE Transport {
 public:
  static constexpr std::string_view kServiceName = "Transport";
  virtual ~Transport() = default;
  // `api` must outlive the returned server. host "0.0.0.0" or "127.0.0.1"; port 0 picks one.
  virtual Result<std::unique_ptr<Server>> serve_broker(BrokerApi& api, const std::string& host, uint16_t port) = 0;
  virtual Result<std::unique_ptr<Server>> serve_name_server(NameServerApi& api, const std::string& host,
                                                            uint16_t port) = 0;
  // "host:port"; connects lazily and reconnects on failure.
  virtual std::unique_ptr<NameServerClient> name_server_client(const std::string& address) = 0;
};

}  // namespace mq
