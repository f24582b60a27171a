// ChannelNameServerClient: register/unregister a broker with one name server.
#include "channel_name_server_client.h"

#include "convert.h"

namespace mq::transport_thrift {

template <typename Call>
Status ChannelNameServerClient::with_channel(const char* method, Call&& call) {
  std::lock_guard lock(mu_);
  try {
    if (!channel_ || !channel_->is_open()) channel_ = wire::ClientChannel::connect(address_, options_);
    return call(*channel_);
  } catch (const std::exception& e) {
    channel_.reset();  // the connection state is unknown; reconnect next time
    return Status::system(std::string(method) + " to name server " + address_ + " failed: " + e.what());
  }
}

Status ChannelNameServerClient::register_broker(const BrokerRegistration& registration) {
  return with_channel("registerBroker", [&](wire::ClientChannel& channel) {
    wire::BaseResponse response;
    channel.name_server().registerBroker(response, to_wire(registration));
    return to_status(response.code, response.remark);
  });
}

Status ChannelNameServerClient::unregister_broker(const std::string& cluster_name, const std::string& broker_name,
                                                  int64_t broker_id, const std::string& broker_addr) {
  return with_channel("unregisterBroker", [&](wire::ClientChannel& channel) {
    wire::UnregisterBrokerRequest request;
    request.clusterName = cluster_name;
    request.brokerName = broker_name;
    request.brokerId = broker_id;
    request.brokerAddr = broker_addr;
    wire::BaseResponse response;
    channel.name_server().unregisterBroker(response, request);
    return to_status(response.code, response.remark);
  });
}

}  // namespace mq::transport_thrift
