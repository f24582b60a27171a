// ClientInstance implementation.
#include "client_instance.h"

#include <thrift/Thrift.h>
#include <thrift/transport/TTransportException.h>

#include "logging.h"

namespace mq::client {
namespace {
constexpr size_t kMaxIdlePerAddress = 8;

void close_quietly(wire::ClientChannel* channel) {
  if (channel == nullptr) return;
  try {
    channel->close();
  } catch (const std::exception&) {
    // Closing a broken socket may throw; the channel is discarded either way.
  }
}
}  // namespace

Status status_from_exception(const std::string& peer, const std::exception& e) {
  if (auto* te = dynamic_cast<const apache::thrift::transport::TTransportException*>(&e)) {
    if (te->getType() == apache::thrift::transport::TTransportException::TIMED_OUT) {
      return Status(code::kRpcTimeout, peer + ": timed out: " + e.what());
    }
  }
  return Status(code::kRpcFailed, peer + ": " + e.what());
}

bool is_stale_connection_error(const std::exception& e) {
  using apache::thrift::transport::TTransportException;
  auto* te = dynamic_cast<const TTransportException*>(&e);
  if (te == nullptr) return false;
  return te->getType() != TTransportException::TIMED_OUT && te->getType() != TTransportException::INTERRUPTED;
}

ClientInstance::ClientInstance(std::vector<std::string> name_servers, wire::ChannelOptions options)
    : name_servers_(std::move(name_servers)), options_(options) {}

ClientInstance::~ClientInstance() { close_all(); }

std::unique_ptr<wire::ClientChannel> ClientInstance::checkout(const std::string& addr, bool allow_pooled,
                                                             bool* pooled) {
  *pooled = false;
  if (allow_pooled) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(addr);
    if (it != idle_.end() && !it->second.empty()) {
      auto channel = std::move(it->second.back());
      it->second.pop_back();
      *pooled = true;
      return channel;
    }
  }
  return wire::ClientChannel::connect(addr, options_);  // may throw
}

void ClientInstance::checkin(std::unique_ptr<wire::ClientChannel> channel) {
  std::lock_guard lock(mu_);
  auto& idle = idle_[channel->address()];
  if (idle.size() < kMaxIdlePerAddress) idle.push_back(std::move(channel));
}

void ClientInstance::drop_idle(const std::string& addr) {
  std::vector<std::unique_ptr<wire::ClientChannel>> stale;
  {
    std::lock_guard lock(mu_);
    auto it = idle_.find(addr);
    if (it == idle_.end()) return;
    stale.swap(it->second);
  }
  for (auto& channel : stale) close_quietly(channel.get());
}

Status ClientInstance::call_channel(const std::string& addr, const std::string& peer,
                                    const std::function<void(wire::ClientChannel&)>& fn, CallRetry retry) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<wire::ClientChannel> channel;
    bool pooled = false;
    try {
      // The retry never takes another pooled channel: it may be just as stale.
      channel = checkout(addr, attempt == 0, &pooled);
      fn(*channel);
    } catch (const std::exception& e) {
      close_quietly(channel.get());  // state unknown after a failed call: never reuse it
      if (pooled && is_stale_connection_error(e)) {
        drop_idle(addr);
        if (retry == CallRetry::kOnStaleConnection) {
          client_log().debug("{}: pooled connection is stale ({}); reconnecting and retrying once", peer, e.what());
          continue;
        }
      }
      return status_from_exception(peer, e);
    }
    checkin(std::move(channel));
    return Status::ok();
  }
}

Status ClientInstance::call_broker(const std::string& addr, const std::function<void(wire::BrokerServiceClient&)>& fn,
                                   CallRetry retry) {
  if (addr.empty()) return Status(code::kNoRoute, "no broker address");
  return call_channel(addr, "broker " + addr, [&](wire::ClientChannel& channel) { fn(channel.broker()); }, retry);
}

Status ClientInstance::call_name_server(const std::function<void(wire::NameServerServiceClient&)>& fn) {
  if (name_servers_.empty()) return Status(code::kNoNameServer, "no name server address configured");
  Status last;
  size_t start = name_server_index_.load();
  for (size_t i = 0; i < name_servers_.size(); ++i) {
    size_t index = (start + i) % name_servers_.size();
    const std::string& addr = name_servers_[index];
    last = call_channel(addr, "name server " + addr,
                        [&](wire::ClientChannel& channel) { fn(channel.name_server()); },
                        CallRetry::kOnStaleConnection);
    if (last) {
      name_server_index_.store(index);
      return last;
    }
    if (i + 1 < name_servers_.size()) client_log().warn("{}; trying the next name server", last.remark());
  }
  return last;
}

Status ClientInstance::fetch_route(const std::string& topic, wire::TopicRouteResponse* out) {
  wire::TopicRouteResponse response;
  Status s = call_name_server([&](wire::NameServerServiceClient& ns) { ns.getRouteInfoByTopic(response, topic); });
  if (!s) return s;
  if (response.code != code::kSuccess) {
    return Status(response.code, response.remark.empty() ? "no route for topic " + topic : response.remark);
  }
  *out = std::move(response);
  return Status::ok();
}

Status ClientInstance::fetch_cluster_info(wire::ClusterInfoResponse* out) {
  wire::ClusterInfoResponse response;
  Status s = call_name_server([&](wire::NameServerServiceClient& ns) { ns.getClusterInfo(response); });
  if (!s) return s;
  if (response.code != code::kSuccess) return Status(response.code, response.remark);
  *out = std::move(response);
  return Status::ok();
}

void ClientInstance::close_all() {
  std::map<std::string, std::vector<std::unique_ptr<wire::ClientChannel>>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }
  for (auto& [addr, channels] : idle) {
    for (auto& channel : channels) close_quietly(channel.get());
  }
}

}  // namespace mq::client
