// mqadmin command implementations.
#include "admin_commands.h"

#include <algorithm>
#include <map>
#include <set>

#include <chrono>
#include <functional>
#include <tuple>

#include "admin_common.h"
#include "admin_render.h"
#include "admin_retry_commands.h"
#include "admin_topic_reader.h"
#include "admin_transaction_commands.h"
#include "client_instance.h"
#include "report.h"
#include "mq/client/producer.h"
#include "name_server_list.h"
#include "replica_selector.h"
#include "table.h"
#include "topic_route.h"
#include "wire_convert.h"

namespace mq::admin {
namespace {

using client::ClientInstance;
using client::Status;
namespace code = client::code;

Status response_status(int32_t c, const std::string& remark, const std::string& what) {
  if (c == code::kSuccess) return Status::ok();
  return Status(c, what + ": " + (remark.empty() ? "no remark" : remark));
}

Status client_call(ClientInstance& client, const std::string& addr,
                   const std::function<void(wire::BrokerServiceClient&, wire::BaseResponse&)>& call,
                   wire::BaseResponse* response) {
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { call(b, *response); });
  if (s && response->code != code::kSuccess) s = Status(response->code, response->remark);
  return s;
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

int topic_list(ClientInstance& client, bool json, std::ostream& out, std::ostream& err) {
  wire::NameListResponse response;
  Status s = client.call_name_server([&](wire::NameServerServiceClient& ns) { ns.getAllTopicList(response); });
  if (s) s = response_status(response.code, response.remark, "getAllTopicList");
  if (!s) return fail(err, s);
  std::sort(response.names.begin(), response.names.end());
  if (json) {
    Report r;
    r.set("topics", response.names);
    r.print(out, true);
    return kExitOk;
  }
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
  if (args.json) {
    Report r;
    r.set("Topic", args.get('t'));
    r.add_section("brokers", brokers.header()) = brokers;
    r.add_section("queues", queues.header()) = queues;
    r.print(out, true);
    return kExitOk;
  }
  brokers.print(out);
  out << '\n';
  queues.print(out);
  return kExitOk;
}

int cluster_list(ClientInstance& client, bool json, std::ostream& out, std::ostream& err) {
  wire::ClusterInfoResponse info;
  if (Status s = client.fetch_cluster_info(&info); !s) return fail(err, s);
  Table table({"#Cluster", "#BrokerName", "#BrokerId", "#Address", "#Role"});
  for (const auto& [cluster, names] : info.clusters) {
    std::vector<std::string> sorted(names.begin(), names.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& name : sorted) {
      auto it = info.brokers.find(name);
      if (it == info.brokers.end()) continue;
      const auto& roles = it->second.brokerRoles;
      for (const auto& [id, addr] : it->second.brokerAddrs) {
        auto role = roles.find(id);
        table.add_row({cluster, name, std::to_string(id), addr, role == roles.end() ? "" : role->second});
      }
    }
  }
  if (json) {
    Report r;
    r.add_section("brokers", table.header()) = table;
    r.print(out, true);
    return kExitOk;
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
  if (args.has('l')) message.set_delay_time_level(static_cast<int32_t>(args.get_int('l', 0)));
  if (args.has('a')) message.set_deliver_time_ms(args.get_int('a', 0));
  if (args.has('d')) message.set_delay_ms(args.get_int('d', 0));
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
  if (args.json) {
    Report r;
    r.add_section("results", table.header()) = table;
    r.print(out, true);
    return kExitOk;
  }
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
  int64_t printed = 0;
  for (const auto& queue : client::readable_queues(topic, route)) {
    if (remaining <= 0) break;
    if (args.has('b') && queue.broker_name != args.get('b')) continue;
    if (args.has('i') && queue.queue_id != args.get_int('i', -1)) continue;
    // The master (id 0 comes first); the next broker of the group that answers when the master
    // is gone from the route or does not answer.
    std::string addr;
    for (const auto& [id, candidate] : client::group_addresses(route, queue.broker_name)) {
      if (addr.empty()) addr = candidate;  // kept for the error message when none answers
      wire::ServerInfoResponse info;
      if (client.call_broker(candidate, [&](wire::BrokerServiceClient& b) { b.getServerInfo(info); })) {
        addr = candidate;
        break;
      }
    }
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
    Status pulled = pull_queue(
        client, addr, group, queue, remaining,
        [&](wire::MessageExt& m) {
          print_message(out, queue.broker_name, client::from_wire(m));
          ++printed;
          --remaining;
          return true;
        },
        &offset);
    if (!pulled) return fail(err, pulled);
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
  if (args.json) {
    Report r;
    r.set("ConsumerGroup", group);
    r.set("DiffTotal", total);
    r.add_section("queues", table.header()) = table;
    r.print(out, true);
    return kExitOk;
  }
  table.print(out);
  out << "\nConsume TPS: n/a\nDiff Total: " << total << '\n';
  return kExitOk;
}

// Master brokers addressed by -b <addr> or -c <cluster> (neither: every master).
Status target_brokers(const AdminArgs& args, ClientInstance& client, std::map<std::string, std::string>* targets) {
  if (args.has('b')) {
    (*targets)[args.get('b')] = args.get('b');
    return Status::ok();
  }
  if (Status s = cluster_masters(client, args.get('c'), targets); !s) return s;
  if (targets->empty()) return Status(code::kBrokerNotExist, "no master broker is registered");
  return Status::ok();
}

// Runs a BaseResponse call on every target and prints one row per broker.
int per_broker(const AdminArgs& args, ClientInstance& client, const std::map<std::string, std::string>& targets, const std::string& what,
               const std::function<void(wire::BrokerServiceClient&, wire::BaseResponse&)>& call, std::ostream& out,
               std::ostream& err) {
  Report report;
  Table& table = report.add_section("results", {"#Broker", "#Address", "#Result"});
  int rc = kExitOk;
  for (const auto& [name, addr] : targets) {
    wire::BaseResponse response;
    Status s = client_call(client, addr, call, &response);
    if (!s) {
      err << "error: " << what << " on " << addr << ": " << s.to_string() << '\n';
      rc = kExitError;
    }
    table.add_row({name, addr, s ? "OK" : s.to_string()});
  }
  report.print(out, args.json);
  return rc;
}

int delete_topic(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> targets;
  if (Status s = target_brokers(args, client, &targets); !s) return fail(err, s);
  const std::string topic = args.get('t');
  return per_broker(args, client, targets, "deleteTopic " + topic,
                    [&](wire::BrokerServiceClient& b, wire::BaseResponse& r) { b.deleteTopic(r, topic); }, out, err);
}

int update_sub_group(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> targets;
  if (Status s = target_brokers(args, client, &targets); !s) return fail(err, s);
  wire::SubscriptionGroupConfig config;
  config.groupName = args.get('g');
  config.consumeEnable = args.get('s', "true") == "true";
  config.consumeBroadcastEnable = args.get('d', "true") == "true";
  config.retryQueueNums = static_cast<int32_t>(args.get_int('q', 1));
  config.retryMaxTimes = static_cast<int32_t>(args.get_int('r', 16));
  config.brokerId = args.get_int('i', 0);
  config.whichBrokerWhenConsumeSlowly = args.get_int('w', 1);
  config.consumeMessageOrderly = args.get('o', "false") == "true";
  return per_broker(args, client, targets, "updateSubscriptionGroup " + config.groupName,
                    [&](wire::BrokerServiceClient& b, wire::BaseResponse& r) { b.updateSubscriptionGroup(r, config); },
                    out, err);
}

int query_msg_by_id(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  std::string addr;
  int64_t offset = 0;
  if (!decode_offset_msg_id(args.get('i'), &addr, &offset)) {
    err << "error: '" << args.get('i') << "' is not an offset message id (32 hex chars: ip, port, commit-log offset)\n";
    return kExitUsage;
  }
  wire::MessageResponse response;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.viewMessage(response, offset); });
  if (s) s = response_status(response.code, response.remark, "viewMessage at " + std::to_string(offset) + " on " + addr);
  if (!s) return fail(err, s);
  message_report(addr, response.message).print(out, args.json);
  return kExitOk;
}

int query_msg_by_key(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  wire::QueryMessageRequest request;
  request.topic = args.get('t');
  request.key = args.get('k');
  request.maxNum = static_cast<int32_t>(args.get_int('m', 32));
  std::vector<std::pair<std::string, wire::MessageExt>> found;
  for (const auto& [name, addr] : client::master_addresses(route)) {
    wire::QueryMessageResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.queryMessageByKey(response, request); });
    if (s && response.code == code::kQueryNotFound) continue;
    if (s) s = response_status(response.code, response.remark, "queryMessageByKey on " + addr);
    if (!s) return fail(err, s);
    for (auto& m : response.messages) found.emplace_back(name, std::move(m));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.queueId, a.second.queueOffset) < std::tie(b.first, b.second.queueId, b.second.queueOffset);
  });
  message_list_report(found).print(out, args.json);
  return kExitOk;
}

int query_msg_by_offset(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  auto masters = client::master_addresses(route);
  auto it = masters.find(args.get('b'));
  if (it == masters.end()) {
    return fail(err, Status(code::kBrokerNotExist, "broker " + args.get('b') + " serves no queue of " + args.get('t')));
  }
  wire::PullRequest request;
  request.consumerGroup = "TOOLS_CONSUMER";
  request.topic = args.get('t');
  request.queueId = static_cast<int32_t>(args.get_int('i', 0));
  request.queueOffset = args.get_int('o', 0);
  request.maxMsgs = 1;
  request.suspendTimeoutMs = 0;
  wire::PullResponse response;
  Status s = client.call_broker(it->second, [&](wire::BrokerServiceClient& b) { b.pull(response, request); });
  if (s && response.code == code::kSuccess && response.messages.empty()) {
    s = Status(code::kQueryNotFound, "no message at that offset");
  } else if (s && response.code != code::kSuccess) {
    s = response_status(response.code, response.remark.empty() ? "no message at offset " + args.get('o') : response.remark,
                        "pull " + args.get('t') + "@" + args.get('b') + "@" + args.get('i'));
  }
  if (!s) return fail(err, s);
  message_report(args.get('b'), response.messages.front()).print(out, args.json);
  return kExitOk;
}

int reset_offset_by_time(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  wire::ResetOffsetRequest request;
  request.consumerGroup = args.get('g');
  request.topic = args.get('t');
  request.timestamp = args.get('s') == "now"
                          ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count()
                          : args.get_int('s', 0);
  request.force = true;
  Report report;
  report.set("ConsumerGroup", request.consumerGroup);
  report.set("Topic", request.topic);
  report.set("Timestamp", request.timestamp);
  Table& table = report.add_section("offsets", {"#Broker", "#QID", "#NewOffset"});
  for (const auto& [name, addr] : client::master_addresses(route)) {
    wire::ResetOffsetResponse response;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.resetOffsetByTimestamp(response, request); });
    if (s) s = response_status(response.code, response.remark, "resetOffsetByTimestamp on " + addr);
    if (!s) return fail(err, s);
    for (const auto& [qid, offset] : response.offsetTable) table.add_row({name, std::to_string(qid), std::to_string(offset)});
  }
  report.print(out, args.json);
  return kExitOk;
}

int broker_status(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  const std::string addr = args.get('b');
  wire::RuntimeInfoResponse info;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getBrokerRuntimeInfo(info); });
  if (s) s = response_status(info.code, info.remark, "getBrokerRuntimeInfo on " + addr);
  if (!s) return fail(err, s);
  broker_status_report(addr, info).print(out, args.json);
  return kExitOk;
}

// Every broker sees the members that heartbeat to it: the union of the answers, deduplicated by client id.
int consumer_connection(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> brokers;
  if (Status s = cluster_masters(client, "", &brokers); !s) return fail(err, s);
  wire::ConsumerConnectionResponse merged;
  bool any = false;
  std::set<std::string> ids, subs, problems;
  Status last = Status(code::kConsumerNotOnline, "consumer group " + args.get('g') + " has no live member");
  for (const auto& [name, addr] : brokers) {
    wire::ConsumerConnectionResponse r;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getConsumerConnectionList(r, args.get('g')); });
    if (s) s = response_status(r.code, r.remark, "getConsumerConnectionList on " + addr);
    if (!s) {
      if (s.code() != code::kConsumerNotOnline) last = s;
      continue;
    }
    if (!any) {
      merged.consumeType = r.consumeType;
      merged.messageModel = r.messageModel;
      merged.consumeFromWhere = r.consumeFromWhere;
    }
    any = true;
    for (auto& c : r.connections) {
      if (ids.insert(c.clientId).second) merged.connections.push_back(std::move(c));
    }
    for (auto& sub : r.subscriptions) {
      if (subs.insert(sub.topic + "\n" + sub.expressionType + "\n" + sub.expression).second) {
        merged.subscriptions.push_back(std::move(sub));
      }
    }
    for (auto& p : r.inconsistencies) {
      if (problems.insert(p).second) merged.inconsistencies.push_back(std::move(p));
    }
  }
  if (!any) return fail(err, last);
  consumer_connection_report(args.get('g'), merged).print(out, args.json);
  return kExitOk;
}

int producer_connection(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  wire::ProducerConnectionResponse merged;
  std::set<std::string> ids;
  for (const auto& [name, addr] : client::master_addresses(route)) {
    wire::ProducerConnectionResponse r;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getProducerConnectionList(r, args.get('g')); });
    if (s) s = response_status(r.code, r.remark, "getProducerConnectionList on " + addr);
    if (!s) return fail(err, s);
    for (auto& c : r.connections) {
      if (ids.insert(c.clientId).second) merged.connections.push_back(std::move(c));
    }
  }
  producer_connection_report(args.get('g'), merged).print(out, args.json);
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
    if (args.command == "topicList") return topic_list(*client, args.json, out, err);
    if (args.command == "topicRoute") return topic_route(args, *client, out, err);
    if (args.command == "clusterList") return cluster_list(*client, args.json, out, err);
    if (args.command == "consumeMessage") return consume_message(args, *client, out, err);
    if (args.command == "consumerProgress") return consumer_progress(args, *client, out, err);
    if (args.command == "deleteTopic") return delete_topic(args, *client, out, err);
    if (args.command == "updateSubGroup") return update_sub_group(args, *client, out, err);
    if (args.command == "queryMsgById") return query_msg_by_id(args, *client, out, err);
    if (args.command == "queryMsgByKey") return query_msg_by_key(args, *client, out, err);
    if (args.command == "queryMsgByOffset") return query_msg_by_offset(args, *client, out, err);
    if (args.command == "resetOffsetByTime") return reset_offset_by_time(args, *client, out, err);
    if (args.command == "brokerStatus") return broker_status(args, *client, out, err);
    if (args.command == "consumerConnection") return consumer_connection(args, *client, out, err);
    if (args.command == "producerConnection") return producer_connection(args, *client, out, err);
    if (args.command == "queryDlqMessage") return query_dlq_message(args, *client, out, err);
    if (args.command == "resendDlqMessage") return resend_dlq_message(args, *client, out, err);
    if (args.command == "cancelScheduledMessage") return cancel_scheduled_message(args, *client, out, err);
    if (args.command == "queryCheckMaxHalfMessage") return query_check_max_half_message(args, *client, out, err);
    if (args.command == "resumeCheckHalfMessage") return resume_check_half_message(args, *client, out, err);
    err << "unknown command '" << args.command << "'\n" << usage_text();
    return kExitUsage;
  } catch (const std::exception& e) {
    return fail(err, Status(code::kClientError, e.what()));
  }
}

}  // namespace mq::admin
