// ClientInstance: the network side of one producer / consumer / tool. Keeps a pool of
// ClientChannels per broker address (a broken channel is dropped and a new one is connected
// on next use) and talks to the name servers with failover.
// Thread-safe: each call checks a channel out of the pool, so concurrent calls use
// different connections; no lock is held during I/O.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "BrokerService.h"
#include "NameServerService.h"
#include "mq/client/status.h"
#include "mq/wire/client_channel.h"

namespace mq::client {

// Converts the exception of a failed call into a client-side Status naming the peer.
Status status_from_exception(const std::string& peer, const std::exception& e);

class ClientInstance {
 public:
  ClientInstance(std::vector<std::string> name_servers, wire::ChannelOptions options);
  ~ClientInstance();

  // Runs fn on a pooled channel to broker_addr. A transport error becomes kRpcFailed /
  // kRpcTimeout and the channel is discarded. fn's own result travels through its captures.
  Status call_broker(const std::string& broker_addr, const std::function<void(wire::BrokerServiceClient&)>& fn);
  // Same, with failover: tries each name server, starting with the last one that answered.
  Status call_name_server(const std::function<void(wire::NameServerServiceClient&)>& fn);

  // getRouteInfoByTopic; a non-zero response code is returned as the Status.
  Status fetch_route(const std::string& topic, wire::TopicRouteResponse* out);
  Status fetch_cluster_info(wire::ClusterInfoResponse* out);

  const std::vector<std::string>& name_servers() const { return name_servers_; }
  // Closes every pooled channel (in-flight calls keep theirs until they finish).
  void close_all();

 private:
  std::unique_ptr<wire::ClientChannel> checkout(const std::string& addr);
  void checkin(std::unique_ptr<wire::ClientChannel> channel);

  std::vector<std::string> name_servers_;
  wire::ChannelOptions options_;
  std::atomic<size_t> name_server_index_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<wire::ClientChannel>>> idle_;
};

}  // namespace mq::client
