// mqadmin commands for half messages in TRANS_CHECK_MAX_TIME_TOPIC (list, resume).
#include "admin_transaction_commands.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "admin_common.h"
#include "admin_topic_reader.h"
#include "report.h"
#include "send_request.h"
#include "topic_route.h"

namespace mq::admin {
namespace {

using client::ClientInstance;
using client::Status;
namespace code = client::code;

const char* const kCheckMaxTopic = "TRANS_CHECK_MAX_TIME_TOPIC";

constexpr auto prop = message_property;

bool matches(const wire::MessageExt& m, const std::string& group, const std::string& id) {
  if (!group.empty() && prop(m, "PGROUP") != group) return false;
  return id.empty() || prop(m, client::property::kUniqKey) == id || m.offsetMsgId == id;
}

// Every record of TRANS_CHECK_MAX_TIME_TOPIC on every master that matches, at most `limit`.
Status read_check_max(ClientInstance& client, const std::string& group, const std::string& id, int64_t limit,
                      FoundMessages* out) {
  return read_topic(
      client, kCheckMaxTopic, [&](const wire::MessageExt& m) { return matches(m, group, id); }, limit, out);
}

}  // namespace

bool half_to_resume(const wire::MessageExt& m, wire::SendRequest* out, std::string* why) {
  const std::string topic = prop(m, "REAL_TOPIC");
  const std::string group = prop(m, "PGROUP");
  if (topic.empty() || group.empty()) {
    *why = "record " + m.offsetMsgId + " has no REAL_TOPIC / PGROUP property; it is not a half message copy";
    return false;
  }
  static const std::set<std::string> dropped = {"REAL_TOPIC",        "REAL_QID", "TRAN_MSG", "TRANSACTION_CHECK_TIMES",
                                                "__transactionId__", "WAIT"};
  wire::Message msg;
  msg.topic = topic;
  msg.flag = m.flag;
  msg.body = m.body;
  for (const auto& [name, value] : m.properties)
    if (dropped.count(name) == 0) msg.properties[name] = value;
  msg.properties["TRAN_MSG"] = "true";
  *out = client::make_send_request(group, msg, -1, "", 4);  // sysFlag 4: PREPARED
  return true;
}

int query_check_max_half_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  FoundMessages found;
  if (Status s = read_check_max(client, args.get('g'), args.get('i'), args.get_int('c', 128), &found); !s)
    return fail(err, s);
  Report r;
  r.set("Topic", kCheckMaxTopic);
  Table& t = r.add_section("messages", {"#Broker", "#Offset", "#MsgId", "#OffsetMsgId", "#RealTopic", "#ProducerGroup",
                                        "#CheckTimes", "#Tags", "#Keys", "#StoreTimestamp", "#Body"});
  for (const auto& [broker, m] : found)
    t.add_row({broker, std::to_string(m.queueOffset), prop(m, client::property::kUniqKey), m.offsetMsgId,
               prop(m, "REAL_TOPIC"), prop(m, "PGROUP"), prop(m, "TRANSACTION_CHECK_TIMES"),
               prop(m, client::property::kTags), prop(m, client::property::kKeys), std::to_string(m.storeTimestamp),
               m.body});
  r.print(out, args.json);
  return kExitOk;
}

int resume_check_half_message(const AdminArgs& args, ClientInstance& client, std::ostream& out, std::ostream& err) {
  FoundMessages found;
  if (Status s = read_check_max(client, "", args.get('i'), 1, &found); !s) return fail(err, s);
  if (found.empty())
    return fail(err, Status(code::kQueryNotFound, "no message " + args.get('i') + " in " + kCheckMaxTopic +
                                                      "; list them with queryCheckMaxHalfMessage"));
  const auto& [broker, m] = found.front();
  wire::SendRequest request;
  std::string why;
  if (!half_to_resume(m, &request, &why)) return fail(err, Status(code::kIllegalArgument, why));
  wire::TopicRouteResponse route;
  if (Status s = client.fetch_route(request.topic, &route); !s) return fail(err, s);
  auto masters = client::master_addresses(route);
  // The broker that discarded it if it serves the topic, else any master of the topic.
  std::string addr = masters.count(broker) ? masters[broker] : std::string();
  if (addr.empty() && !masters.empty()) addr = masters.begin()->second;
  if (addr.empty()) return fail(err, Status(code::kNoRoute, "topic " + request.topic + " has no master broker"));
  wire::SendResponse response;
  Status s = client.call_broker(
      addr, [&](wire::BrokerServiceClient& b) { b.send(response, request); }, client::CallRetry::kNever);
  if (s && response.code != code::kSuccess) s = Status(response.code, response.remark);
  if (!s) return fail(err, s);
  Report r;
  r.set("MsgId", prop(m, client::property::kUniqKey));
  r.set("ProducerGroup", request.producerGroup);
  r.set("Topic", request.topic);
  r.set("Broker", addr);
  r.set("NewHalfOffsetMsgId", response.results.empty() ? std::string() : response.results[0].offsetMsgId);
  r.print(out, args.json);
  return kExitOk;
}

}  // namespace mq::admin
