// mqadmin command implementations.
#include "admin_commands.h"

#include <algorithm>
#include <map>
#include <set>

#include "client_instance.h"
#include "mq/client/producer.h"
#include "name_server_list.h"
#include "table.h"
#include "topic_route.h"
#include "wire_convert.h"

namespace mq::admin {
namespace {

using client::ClientInstance;
using client::Status;
namespace code = client::code;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

int fail(std::ostream& err, const Status& status) {
  err << "error: " << status.to_string() << '\n';
  return kExitError;
}

Status response_status(int32_t c, const std::string& remark, const std::string& what) {
  if (c == code::kSuccess) return Status::ok();
  return Status(c, what + ": " + (remark.empty() ? "no remark" : remark));
}

Status connect(const AdminArgs& args, std::unique_ptr<ClientInstance>* out) {
  std::vector<std::string> name_servers;
  if (Status s = client::resolve_name_servers(args.get('n'), &name_servers); !s) return s;
  wire::ChannelOptions options;
  options.recv_timeout_ms = 10000;
  *out = std::make_unique<ClientInstance>(std::move(name_servers), options);
  return Status::ok();
}

// broker name -> master address, over the whole name-server view.
Status cluster_masters(ClientInstance& client, const std::string& cluster, std::map<std::string, std::string>* out) {
  wire::ClusterInfoResponse info;
  if (Status s = client.fetch_cluster_info(&info); !s) return s;
  std::set<std::string> wanted;
  if (!cluster.empty()) {
    auto it = info.clusters.find(cluster);
    if (it == info.clusters.end()) return Status(code::kBrokerNotExist, "no cluster named " + cluster);
    wanted.insert(it->second.begin(), it->second.end());
  }
  for (const auto& [name, data] : info.brokers) {
    if (!cluster.empty() && wanted.count(name) == 0) continue;
    auto master = data.brokerAddrs.find(0);
    if (master != data.brokerAddrs.end() && !master->second.empty()) (*out)[name] = master->second;
  }
  return Status::ok();
}

int update_topic(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicConfig config;
  config.topicName = args.get('t');
  config.readQueueNums = static_cast<int32_t>(args.get_int('r', 8));
  config.writeQueueNums = static_cast<int32_t>(args.get_int('w', 8));
  config.perm = static_cast<int32_t>(args.get_int('p', 6));
  std::map<std::string, std::string> targets;  // label -> address
  if (args.has('b')) {
    targets[args.get('b')] = args.get('b');
  } else if (Status s = cluster_masters(client, args.get('c'), &targets); !s) {
    return fail(err, s);
  }
  if (targets.empty()) return fail(err, Status(code::kBrokerNotExist, "no master broker is registered"));
  int rc = kExitOk;
  for (const auto& [name, addr] : targets) {
    wire::BaseResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.createTopic(response, config); });
    if (s) s = response_status(response.code, response.remark, "createTopic on " + addr);
    if (!s) {
      rc = fail(err, s);
      continue;
    }
    out << "create topic " << config.topicName << " on " << name << " (" << addr << "): OK, read " << config.readQueueNums
        << " write " << config.writeQueueNums << " perm " << config.perm << '\n';
  }
  return rc;
}

int topic_list(ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::NameListResponse response;
  Status s = client.call_name_server([&](wire::NameServerServiceClient& ns) { ns.getAllTopicList(response); });
  if (s) s = response_status(response.code, response.remark, "getAllTopicList");
  if (!s) return fail(err, s);
  std::sort(response.names.begin(), response.names.end());
  for (const auto& name : response.names) out << name << '\n';
  return kExitOk;
}

int topic_route(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  Table brokers({"#Cluster", "#BrokerName", "#BrokerId", "#Address"});
  for (const auto& b : route.brokers) {
    for (const auto& [id, addr] : b.brokerAddrs) brokers.add_row({b.cluster, b.brokerName, std::to_string(id), addr});
  }
  Table queues({"#BrokerName", "#ReadQueues", "#WriteQueues", "#Perm"});
  for (const auto& q : route.queues) {
    queues.add_row({q.brokerName, std::to_string(q.readQueueNums), std::to_string(q.writeQueueNums), std::to_string(q.perm)});
  }
  brokers.print(out);
  out << '\n';
  queues.print(out);
  return kExitOk;
}

int cluster_list(ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::ClusterInfoResponse info;
  if (Status s = client.fetch_cluster_info(&info); !s) return fail(err, s);
  Table table({"#Cluster", "#BrokerName", "#BrokerId", "#Address"});
  for (const auto& [cluster, names] : info.clusters) {
    std::vector<std::string> sorted(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& name : sorted) {
      auto it = info.brokers.find(name);
      if (it == info.brokers.end()) continue;
      for (const auto& [id, addr] : it->second.brokerAddrs) table.add_row({cluster, name, std::to_string(id), addr});
    }
  }
  table.print(out);
  return kExitOk;
}

int send_message(const AdminArgs& args, std::ostream& out, std::ostream& err) {
  client::Producer producer("TOOLS_PRODUCER");
  producer.set_namesrv_addr(args.get('n'));
  producer.set_retry_times_when_send_failed(0);
  if (Status s = producer.start(); !s) return fail(err, s);
  client::Message message(args.get('t'), args.get('c'), args.get('k'), args.get('p'));
  client::SendResult result;
  if (args.has('b')) {
    client::MessageQueue queue{args.get('t'), args.get('b'), static_cast<int32_t>(args.get_int('i', 0))};
    result = producer.send(message, queue);
  } else {
    result = producer.send(message);
  }
  (void)producer.shutdown();
  if (!result.ok()) return fail(err, Status(result.code, result.remark));
  Table table({"#Broker", "#QID", "#SendStatus", "#MsgId", "#OffsetMsgId", "#QueueOffset"});
  table.add_row({result.message_queue.broker_name, std::to_string(result.message_queue.queue_id),
                 client::send_status_name(result.status), result.msg_id, result.offset_msg_id,
                 std::to_string(result.queue_offset)});
  table.print(out);
  return kExitOk;
}

void print_message(std::ostream& out, const std::string& broker, const client::MessageExt& m) {
  out << "broker=" << broker << " queue=" << m.queue_id() << " offset=" << m.queue_offset() << " msgId=" << m.msg_id()
      << " offsetMsgId=" << m.offset_msg_id() << " tags=" << m.tags() << " keys=" << m.keys()
      << " storeTime=" << m.store_timestamp() << " body=" << m.body() << '\n';
}

int consume_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  const std::string topic = args.get('t');
  const std::string group = args.get('g', "TOOLS_CONSUMER");
  const bool commit = args.has('g');
  int64_t remaining = args.get_int('c', 128);
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(topic, &route); !s) return fail(err, s);
  auto masters = client::master_addresses(route);
  int64_t printed = 0;
  for (const auto& queue : client::readable_queues(topic, route)) {
    if (remaining <= 0) break;
    if (args.has('b') && queue.broker_name != args.get('b')) continue;
    if (args.has('i') && queue.queue_id != args.get_int('i', -1)) continue;
    const std::string addr = masters[queue.broker_name];
    int64_t offset = args.get_int('o', -1);
    if (offset < 0 && commit) {
      wire::ConsumerOffsetRequest request;
      request.consumerGroup = group;
      request.topic = topic;
      request.queueId = queue.queue_id;
      wire::OffsetResponse committed;
      Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.queryConsumerOffset(committed, request); });
      if (!s) return fail(err, s);
      if (committed.code == code::kSuccess) offset = committed.offset;
      else if (committed.code != code::kQueryNotFound) return fail(err, response_status(committed.code, committed.remark, "queryConsumerOffset"));
    }
    if (offset < 0) {
      wire::QueueRef ref;
      ref.topic = topic;
      ref.queueId = queue.queue_id;
      wire::OffsetResponse min;
      Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getMinOffset(min, ref); });
      if (s) s = response_status(min.code, min.remark, "getMinOffset " + queue.to_string());
      if (!s) return fail(err, s);
      offset = min.offset;
    }
    const int64_t start = offset;
    for (int guard = 0; remaining > 0 && guard < 100000; ++guard) {
      wire::PullRequest request;
      request.consumerGroup = group;
      request.topic = topic;
      request.queueId = queue.queue_id;
      request.queueOffset = offset;
      request.maxMsgs = static_cast<int32_t>(std::min<int64_t>(32, remaining));
      request.suspendTimeoutMs = 0;
      wire::PullResponse response;
      Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.pull(response, request); });
      if (!s) return fail(err, s);
      if (response.code == code::kSuccess) {
        for (const auto& m : response.messages) {
          print_message(out, queue.broker_name, client::from_wire(m));
          ++printed;
          --remaining;
        }
        offset = std::max(response.nextBeginOffset, offset + static_cast<int64_t>(response.messages.size()));
        if (response.messages.empty()) break;
      } else if (response.code == code::kPullRetryImmediately || response.code == code::kPullOffsetMoved) {
        if (response.nextBeginOffset == offset) break;
        offset = response.nextBeginOffset;
      } else if (response.code == code::kPullNotFound) {
        break;  // caught up
      } else {
        return fail(err, response_status(response.code, response.remark, "pull " + queue.to_string()));
      }
    }
    if (commit && offset != start) {
      wire::ConsumerOffsetRequest request;
      request.consumerGroup = group;
      request.topic = topic;
      request.queueId = queue.queue_id;
      request.offset = offset;
      wire::BaseResponse response;
      Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.updateConsumerOffset(response, request); });
      if (s) s = response_status(response.code, response.remark, "updateConsumerOffset " + queue.to_string());
      if (!s) return fail(err, s);
    }
  }
  out << "consumed " << printed << " messages\n";
  return kExitOk;
}

int consumer_progress(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  const std::string group = args.get('g');
  const std::string topic = args.get('t');
  std::map<std::string, std::string> brokers;
  if (!topic.empty()) {
    wire::TopicRouteResponse route;
    if (Status s = client.fetch_route(topic, &route); !s) return fail(err, s);
    brokers = client::master_addresses(route);
  } else if (Status s = cluster_masters(client, "", &brokers); !s) {
    return fail(err, s);
  }
  std::vector<wire::QueueConsumeStat> stats;
  for (const auto& [name, addr] : brokers) {
    wire::ConsumeStatsResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getConsumeStats(response, group, topic); });
    if (s) s = response_status(response.code, response.remark, "getConsumeStats on " + addr);
    if (!s) return fail(err, s);
    for (auto& q : response.queues) {
      if (q.brokerName.empty()) q.brokerName = name;
      stats.push_back(std::move(q));
    }
  }
  std::sort(stats.begin(), stats.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.brokerName, a.queueId) < std::tie(b.topic, b.brokerName, b.queueId);
  });
  Table table({"#Topic", "#Broker Name", "#QID", "#Broker Offset", "#Consumer Offset", "#Diff"});
  int64_t total = 0;
  for (const auto& q : stats) {
    int64_t diff = q.consumerOffset >= 0 ? std::max<int64_t>(0, q.brokerOffset - q.consumerOffset) : q.brokerOffset;
    total += diff;
    table.add_row({q.topic, q.brokerName, std::to_string(q.queueId), std::to_string(q.brokerOffset),
                   std::to_string(q.consumerOffset), std::to_string(diff)});
  }
  table.print(out);
  out << "\nConsume TPS: n/a\nDiff Total: " << total << '\n';
  return kExitOk;
}

}  // namespace

int run_command(const AdminArgs& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.command == "help") {
      if (args.positional.empty()) {
        out << usage_text();
        return kExitOk;
      }
      const CommandSpec* spec = find_command(args.positional[0]);
      if (spec == nullptr) {
        err << "unknown command '" << args.positional[0] << "'\n" << usage_text();
        return kExitUsage;
      }
      out << command_usage(*spec);
      return kExitOk;
    }
    if (args.command == "sendMessage") return send_message(args, out, err);
    std::unique_ptr<ClientInstance> client;
    if (Status s = connect(args, &client); !s) return fail(err, s);
    if (args.command == "updateTopic") return update_topic(args, *client, out, err);
    if (args.command == "topicList") return topic_list(*client, out, err);
    if (args.command == "topicRoute") return topic_route(args, *client, out, err);
    if (args.command == "clusterList") return cluster_list(*client, out, err);
    if (args.command == "consumeMessage") return consume_message(args, *client, out, err);
    if (args.command == "consumerProgress") return consumer_progress(args, *client, out, err);
    err << "unknown command '" << args.command << "'\n" << usage_text();
    return kExitUsage;
  } catch (const std::exception& e) {
    return fail(err, Status(code::kClientError, e.what()));
  }
}

}  // namespace mq::admin
