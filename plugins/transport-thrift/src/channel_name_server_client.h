// ChannelNameServerClient: mq::NameServerClient over a lazily (re)connected wire::ClientChannel.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "mq/transport.h"
#include "mq/wire/client_channel.h"

namespace mq::transport_thrift {

// Threading: calls are serialized by a mutex (one request in flight on the channel). A
// failed call drops the channel; the next call reconnects. Failures come back as
// SYSTEM_ERROR statuses naming the address.
class ChannelNameServerClient final : public NameServerClient {
 public:
  ChannelNameServerClient(std::string address, wire::ChannelOptions options)
      : address_(std::move(address)), options_(options) {}

  Status register_broker(const BrokerRegistration& registration) override;
  Status unregister_broker(const std::string& cluster_name, const std::string& broker_name, int64_t broker_id,
                           const std::string& broker_addr) override;

 private:
  // Runs `call` on a connected channel under mu_; turns exceptions into statuses.
  template <typename Call>
  Status with_channel(const char* method, Call&& call);

  const std::string address_;
  const wire::ChannelOptions options_;
  std::mutex mu_;
  std::unique_ptr<wire::ClientChannel> channel_;  // guarded by mu_; null when disconnected
};

}  // namespace mq::transport_thrift
