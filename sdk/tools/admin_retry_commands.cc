// mqadmin retry / DLQ / scheduled-message commands.
#include "admin_retry_commands.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "admin_common.h"
#include "admin_topic_reader.h"
#include "mq/client/producer.h"
#include "report.h"
#include "topic_route.h"

namespace mq::admin {
namespace {

using client::ClientInstance;
using client::Status;
namespace code = client::code;

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

constexpr auto prop = message_property;

// The DLQ of the group named by -g: messages matching -i, at most -c.
Status read_dlq(const AdminArgs& args, ClientInstance& client, FoundMessages* found) {
  const std::string id = args.get('i');
  return read_topic(
      client, client::dlq_topic_of(args.get('g')), [&](const wire::MessageExt& m) { return dlq_message_matches(m, id); },
      args.get_int('c', 128), found);
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
  FoundMessages found;
  if (Status s = read_dlq(args, client, &found); !s) return fail(err, s);
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
  FoundMessages found;
  if (Status s = read_dlq(args, client, &found); !s) return fail(err, s);
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
