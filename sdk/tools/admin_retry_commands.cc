// mqadmin retry / DLQ / scheduled-message commands.
#include "admin_retry_commands.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "mq/client/producer.h"
#include "report.h"
#include "topic_route.h"

namespace mq::admin {
namespace {

using client::ClientInstance;
using client::Status;
namespace code = client::code;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;

// Properties the broker sets while retrying or scheduling a message: not carried over when a
// dead-letter message is sent again.
const std::set<std::string>& broker_properties() {
  static const std::set<std::string> names = {client::property::kRetryTopic,
                                              client::property::kOriginMessageId,
                                              client::property::kDelayTimeLevel,
                                              client::property::kTimerDeliverMs,
                                              client::property::kTimerDelayMs,
                                              client::property::kTimerDelaySec,
                                              "TIMER_OUT_MS",
                                              "TIMER_ROLL_TIMES",
                                              "TIMER_DEL_UNIQKEY",
                                              "REAL_TOPIC",
                                              "REAL_QID",
                                              "RECONSUME_TIME",
                                              "MAX_RECONSUME_TIMES",
                                              "TRAN_MSG",
                                              "PGROUP",
                                              "WAIT"};
  return names;
}

std::string prop(const wire::MessageExt& m, const std::string& name) {
  auto it = m.properties.find(name);
  return it == m.properties.end() ? std::string() : it->second;
}

int fail(std::ostream& err, const Status& status) {
  err << "error: " << status.to_string() << '\n';
  return kExitError;
}

using Found = std::vector<std::pair<std::string, wire::MessageExt>>;  // (broker name, message)

// Every message of `topic` (all readable queues, from each queue's min offset) that matches
// `id`, at most `limit`. A topic that does not exist yields nothing.
Status read_topic(ClientInstance& client, const std::string& topic, const std::string& id, int64_t limit, Found* out) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(topic, &route); !s) {
    return s.code() == code::kTopicNotExist ? Status::ok() : s;
  }
  auto masters = client::master_addresses(route);
  for (const auto& queue : client::readable_queues(topic, route)) {
    const std::string addr = masters[queue.broker_name];
    wire::QueueRef ref;
    ref.topic = topic;
    ref.queueId = queue.queue_id;
    wire::OffsetResponse min;
    Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getMinOffset(min, ref); });
    if (s && min.code != code::kSuccess) s = Status(min.code, "getMinOffset " + queue.to_string() + ": " + min.remark);
    if (!s) return s;
    int64_t offset = min.offset;
    for (int guard = 0; guard < 100000 && static_cast<int64_t>(out->size()) < limit; ++guard) {
      wire::PullRequest request;
      request.consumerGroup = "TOOLS_CONSUMER";
      request.topic = topic;
      request.queueId = queue.queue_id;
      request.queueOffset = offset;
      request.maxMsgs = 32;
      request.suspendTimeoutMs = 0;
      wire::PullResponse response;
      s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.pull(response, request); });
      if (!s) return s;
      if (response.code == code::kSuccess) {
        for (auto& m : response.messages) {
          if (static_cast<int64_t>(out->size()) < limit && dlq_message_matches(m, id)) {
            out->emplace_back(queue.broker_name, std::move(m));
          }
        }
        const int64_t next =
            std::max(response.nextBeginOffset, offset + static_cast<int64_t>(response.messages.size()));
        if (next == offset) break;
        offset = next;
      } else if (response.code == code::kPullRetryImmediately || response.code == code::kPullOffsetMoved) {
        if (response.nextBeginOffset == offset) break;
        offset = response.nextBeginOffset;
      } else if (response.code == code::kPullNotFound) {
        break;  // read to the end
      } else {
        return Status(response.code, "pull " + queue.to_string() + ": " + response.remark);
      }
    }
  }
  return Status::ok();
}

}  // namespace

bool dlq_message_matches(const wire::MessageExt& m, const std::string& id) {
  if (id.empty()) return true;
  return prop(m, client::property::kUniqKey) == id || prop(m, client::property::kOriginMessageId) == id ||
         m.offsetMsgId == id;
}

bool message_to_resend(const wire::MessageExt& m, client::Message* out, std::string* why) {
  const std::string topic = prop(m, client::property::kRetryTopic);
  if (topic.empty()) {
    *why = "message " + m.offsetMsgId + " has no " + client::property::kRetryTopic +
           " property, so its original topic is unknown; send it again with sendMessage";
    return false;
  }
  std::map<std::string, std::string> properties;
  for (const auto& [name, value] : m.properties) {
    if (broker_properties().count(name) == 0) properties[name] = value;
  }
  // The resent message keeps the id the producer gave it first.
  const std::string origin = prop(m, client::property::kOriginMessageId);
  if (!origin.empty()) properties[client::property::kUniqKey] = origin;
  *out = client::Message(topic, m.body);
  out->set_flag(m.flag);
  out->set_properties(std::move(properties));
  return true;
}

int query_dlq_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  const std::string topic = client::dlq_topic_of(args.get('g'));
  Found found;
  if (Status s = read_topic(client, topic, args.get('i'), args.get_int('c', 128), &found); !s) return fail(err, s);
  Report r;
  r.set("ConsumerGroup", args.get('g'));
  r.set("Topic", topic);
  Table& t = r.add_section("messages", {"#Broker", "#QID", "#Offset", "#MsgId", "#OffsetMsgId", "#OriginTopic",
                                        "#ReconsumeTimes", "#Tags", "#Keys", "#StoreTimestamp", "#Body"});
  for (const auto& [broker, m] : found) {
    const std::string origin = prop(m, client::property::kOriginMessageId);
    t.add_row({broker, std::to_string(m.queueId), std::to_string(m.queueOffset),
               origin.empty() ? prop(m, client::property::kUniqKey) : origin, m.offsetMsgId,
               prop(m, client::property::kRetryTopic), std::to_string(m.reconsumeTimes),
               prop(m, client::property::kTags), prop(m, client::property::kKeys), std::to_string(m.storeTimestamp),
               m.body});
  }
  r.print(out, args.json);
  return kExitOk;
}

int resend_dlq_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  const std::string topic = client::dlq_topic_of(args.get('g'));
  Found found;
  if (Status s = read_topic(client, topic, args.get('i'), args.get_int('c', 128), &found); !s) return fail(err, s);
  if (args.has('i') && found.empty()) {
    return fail(err, Status(code::kQueryNotFound, "no message " + args.get('i') + " in " + topic));
  }
  Report r;
  r.set("ConsumerGroup", args.get('g'));
  Table& t = r.add_section("results", {"#OffsetMsgId", "#MsgId", "#OriginTopic", "#Result", "#NewOffsetMsgId"});
  int rc = kExitOk;
  if (!found.empty()) {
    client::Producer producer("TOOLS_PRODUCER");
    producer.set_namesrv_addr(args.get('n'));
    if (Status s = producer.start(); !s) return fail(err, s);
    for (const auto& [broker, m] : found) {
      client::Message message;
      std::string why;
      if (!message_to_resend(m, &message, &why)) {
        err << "error: " << why << '\n';
        t.add_row({m.offsetMsgId, prop(m, client::property::kUniqKey), "", "SKIPPED", ""});
        rc = kExitError;
        continue;
      }
      client::SendResult result = producer.send(message);
      if (!result.ok()) {
        err << "error: resending " << m.offsetMsgId << " to " << message.topic() << ": "
            << Status(result.code, result.remark).to_string() << '\n';
        rc = kExitError;
      }
      t.add_row({m.offsetMsgId, message.property(client::property::kUniqKey), message.topic(),
                 result.ok() ? "OK" : Status(result.code, result.remark).to_string(), result.offset_msg_id});
    }
    (void)producer.shutdown();
  }
  r.print(out, args.json);
  return rc;
}

int cancel_scheduled_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(args.get('t'), &route); !s) return fail(err, s);
  wire::CancelScheduledRequest request;
  request.topic = args.get('t');
  request.msgId = args.get('i');
  Report r;
  r.set("Topic", request.topic);
  r.set("MsgId", request.msgId);
  Table& t = r.add_section("results", {"#Broker", "#Address", "#Result"});
  bool cancelled = false;
  Status failure(code::kQueryNotFound,
                 "no broker of " + request.topic + " holds message " + request.msgId + " pending");
  for (const auto& [name, addr] : client::master_addresses(route)) {
    wire::BaseResponse response;
    Status s =
        client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.cancelScheduledMessage(response, request); });
    if (s && response.code != code::kSuccess) s = Status(response.code, response.remark);
    t.add_row({name, addr, s ? "OK" : s.to_string()});
    if (s) {
      cancelled = true;
    } else if (s.code() != code::kQueryNotFound || failure.code() == code::kQueryNotFound) {
      failure = s;
    }
  }
  r.print(out, args.json);
  if (cancelled) return kExitOk;
  return fail(err, failure);
}

}  // namespace mq::admin
