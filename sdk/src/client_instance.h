// ClientInstance: the network side of one producer / consumer / tool. Keeps a pool of
// ClientChannels per address and talks to the name servers with failover. A pooled channel
// that fails with a transport error (e.g. the peer restarted) is dropped together with its
// idle siblings; idempotent calls are then retried once on a fresh connection.
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

// Whether a call may be re-sent on a fresh connection after its pooled connection turned out
// to be stale. Only idempotent calls may; sends are never re-sent here (the producer has its
// own retry policy and a re-sent message could be stored twice).
enum class CallRetry { kOnStaleConnection, kNever };

// True for a transport failure that a fresh connection may cure (peer closed or reset the
// socket); false for timeouts, interruptions and application errors.
bool is_stale_connection_error(const std::exception& e);

class ClientInstance {
 public:
  ClientInstance(std::vector<std::string> name_servers, wire::ChannelOptions options);
  ~ClientInstance();

  // Runs fn on a pooled channel to broker_addr. A transport error becomes kRpcFailed /
  // kRpcTimeout and the channel is discarded; with kOnStaleConnection, a stale pooled channel
  // is replaced by a fresh connection and fn runs once more. fn's own result travels through
  // its captures (fn must reset them itself if it may run twice).
  Status call_broker(const std::string& broker_addr, const std::function<void(wire::BrokerServiceClient&)>& fn,
                     CallRetry retry = CallRetry::kOnStaleConnection);
  // Same, with failover: tries each name server, starting with the last one that answered.
  // Name-server calls are all queries, so a stale pooled channel is always retried once.
  Status call_name_server(const std::function<void(wire::NameServerServiceClient&)>& fn);

  // getRouteInfoByTopic; a non-zero response code is returned as the Status.
  Status fetch_route(const std::string& topic, wire::TopicRouteResponse* out);
  Status fetch_cluster_info(wire::ClusterInfoResponse* out);

  const std::vector<std::string>& name_servers() const { return name_servers_; }
  // Closes every pooled channel (in-flight calls keep theirs until they finish).
  void close_all();

 private:
  // Runs fn on a channel to addr (see call_broker); errors name `peer`.
  Status call_channel(const std::string& addr, const std::string& peer,
                      const std::function<void(wire::ClientChannel&)>& fn, CallRetry retry);
  // An idle pooled channel (*pooled = true) if allowed and any, else a new connection.
  std::unique_ptr<wire::ClientChannel> checkout(const std::string& addr, bool allow_pooled, bool* pooled);
  void checkin(std::unique_ptr<wire::ClientChannel> channel);
  // Closes the idle channels to addr: they were opened before the same peer failure.
  void drop_idle(const std::string& addr);

  std::vector<std::string> name_servers_;
  wire::ChannelOptions options_;
  std::atomic<size_t> name_server_index_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<wire::ClientChannel>>> idle_;
};

}  // namespace mq::client
