// Report builders.
#include "admin_render.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace mq::admin {
namespace {

bool hex_value(char c, int* out) {
  if (c >= '0' && c <= '9') *out = c - '0';
  else if (c >= 'a' && c <= 'f') *out = c - 'a' + 10;
  else if (c >= 'A' && c <= 'F') *out = c - 'A' + 10;
  else return false;
  return true;
}

std::string prop(const wire::MessageExt& m, const char* name) {
  auto it = m.properties.find(name);
  return it == m.properties.end() ? std::string() : it->second;
}

}  // namespace

bool decode_offset_msg_id(const std::string& id, std::string* broker_addr, int64_t* commit_log_offset) {
  if (id.size() != 32) return false;
  unsigned char raw[16];
  for (size_t i = 0; i < 16; ++i) {
    int hi = 0, lo = 0;
    if (!hex_value(id[2 * i], &hi) || !hex_value(id[2 * i + 1], &lo)) return false;
    raw[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  uint32_t port = 0;
  for (int i = 4; i < 8; ++i) port = (port << 8) | raw[i];
  uint64_t offset = 0;
  for (int i = 8; i < 16; ++i) offset = (offset << 8) | raw[i];
  if (port == 0 || port > 65535) return false;
  *broker_addr = std::to_string(raw[0]) + "." + std::to_string(raw[1]) + "." + std::to_string(raw[2]) + "." +
                 std::to_string(raw[3]) + ":" + std::to_string(port);
  *commit_log_offset = static_cast<int64_t>(offset);
  return true;
}

std::string encode_offset_msg_id(uint32_t ipv4, uint32_t port, int64_t commit_log_offset) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%08X%08X%016llX", ipv4, port, static_cast<unsigned long long>(commit_log_offset));
  return buf;
}

Report message_report(const std::string& broker, const wire::MessageExt& m) {
  Report r;
  r.set("OffsetMsgId", m.offsetMsgId);
  r.set("MsgId", prop(m, "UNIQ_KEY"));
  r.set("Topic", m.topic);
  r.set("Broker", broker);
  r.set("Tags", prop(m, "TAGS"));
  r.set("Keys", prop(m, "KEYS"));
  r.set("QueueId", m.queueId);
  r.set("QueueOffset", m.queueOffset);
  r.set("CommitLogOffset", m.commitLogOffset);
  r.set("ReconsumeTimes", m.reconsumeTimes);
  r.set("BornTimestamp", m.bornTimestamp);
  r.set("BornHost", m.bornHost);
  r.set("StoreTimestamp", m.storeTimestamp);
  r.set("StoreHost", m.storeHost);
  r.set("StoreSize", m.storeSize);
  r.set("Properties", m.properties);
  r.set("Body", m.body);
  return r;
}

Report message_list_report(const std::vector<std::pair<std::string, wire::MessageExt>>& messages) {
  Report r;
  Table& t = r.add_section("messages", {"#Broker", "#QID", "#Offset", "#MsgId", "#OffsetMsgId", "#Tags", "#Keys",
                                        "#StoreTimestamp", "#Body"});
  for (const auto& [broker, m] : messages) {
    t.add_row({broker, std::to_string(m.queueId), std::to_string(m.queueOffset), prop(m, "UNIQ_KEY"), m.offsetMsgId,
               prop(m, "TAGS"), prop(m, "KEYS"), std::to_string(m.storeTimestamp), m.body});
  }
  return r;
}

Report broker_status_report(const std::string& addr, const wire::RuntimeInfoResponse& info) {
  Report r;
  r.set("Broker", addr);
  Table& t = r.add_section("info", {"#Key", "#Value"});
  for (const auto& [k, v] : info.info) t.add_row({k, v});  // std::map: sorted
  return r;
}

Report consumer_connection_report(const std::string& group, const wire::ConsumerConnectionResponse& resp) {
  Report r;
  r.set("ConsumerGroup", group);
  r.set("ConsumeType", resp.consumeType);
  r.set("MessageModel", resp.messageModel);
  r.set("ConsumeFromWhere", resp.consumeFromWhere);
  Table& c = r.add_section("connections", {"#ClientId", "#ClientAddr", "#Language", "#Version", "#LastHeartbeat"});
  for (const auto& conn : resp.connections) {
    c.add_row({conn.clientId, conn.clientAddr, conn.language, std::to_string(conn.version),
               std::to_string(conn.lastHeartbeatTimestamp)});
  }
  Table& s = r.add_section("subscriptions", {"#Topic", "#ExpressionType", "#Expression"});
  for (const auto& sub : resp.subscriptions) s.add_row({sub.topic, sub.expressionType, sub.expression});
  if (!resp.inconsistencies.empty()) {
    Table& bad = r.add_section("INCONSISTENT", {"#Problem"});
    for (const auto& line : resp.inconsistencies) bad.add_row({line});
  }
  r.set("Consistent", resp.inconsistencies.empty());
  return r;
}

Report producer_connection_report(const std::string& group, const wire::ProducerConnectionResponse& resp) {
  Report r;
  r.set("ProducerGroup", group);
  Table& c = r.add_section("connections", {"#ClientId", "#ClientAddr", "#Language", "#Version", "#LastHeartbeat"});
  for (const auto& conn : resp.connections) {
    c.add_row({conn.clientId, conn.clientAddr, conn.language, std::to_string(conn.version),
               std::to_string(conn.lastHeartbeatTimestamp)});
  }
  return r;
}

}  // namespace mq::admin
