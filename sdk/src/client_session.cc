// Client id, client opening, producer heartbeat and unregistering shared by the SDK clients.
#include "client_session.h"

#include <algorithm>

#include "local_address.h"
#include "logging.h"
#include "mq_constants.h"
#include "name_server_list.h"

namespace mq::client {

std::string make_client_id(const std::string& suffix) {
  return local_ip_string() + "@" + std::to_string(process_id()) + "@" + suffix;
}

std::string make_client_id(const char* kind, uint64_t n) {
  std::string suffix(kind);
  suffix += std::to_string(n);
  return make_client_id(suffix);
}

Status open_send_client(const std::string& namesrv_addr, int send_timeout_ms, std::unique_ptr<ClientInstance>* out) {
  std::vector<std::string> name_servers;
  if (Status s = resolve_name_servers(namesrv_addr, &name_servers); !s) return s;
  wire::ChannelOptions options;
  options.connect_timeout_ms = std::min(send_timeout_ms, 3000);
  options.recv_timeout_ms = send_timeout_ms;
  options.send_timeout_ms = send_timeout_ms;
  *out = std::make_unique<ClientInstance>(std::move(name_servers), options);
  return Status::ok();
}

void send_producer_heartbeat(ClientInstance& client, const std::string& client_id, const std::string& group,
                             const std::set<std::string>& addresses, const std::string& who) {
  wire::HeartbeatRequest request;
  request.clientId = client_id;
  request.producerGroups.push_back(group);
  request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
  for (const auto& addr : addresses) {
    wire::BaseResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.heartbeat(response, request); });
    if (!s || response.code != code::kSuccess) {
      client_log().warn("{}: heartbeat to {} failed: {}", who, addr,
                        s ? Status(response.code, response.remark).to_string() : s.to_string());
    }
  }
}

void unregister_client(ClientInstance& client, const std::string& client_id, const std::set<std::string>& addresses,
                       const std::string& who) {
  for (const auto& addr : addresses) {
    wire::BaseResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.unregisterClient(response, client_id); });
    if (!s) client_log().warn("{}: unregisterClient on {} failed: {}", who, addr, s.to_string());
  }
}

}  // namespace mq::client
