// mqadmin: pure conversions from broker answers to Reports, and the offsetMsgId decoder, kept
// apart from the network code so they are unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mq_types.h"
#include "report.h"

namespace mq::admin {

// offsetMsgId = 32 hex chars: IPv4 (4 bytes), port (4 bytes), commit-log offset (8 bytes).
// Fills "a.b.c.d:port" and the offset; false if malformed.
bool decode_offset_msg_id(const std::string& id, std::string* broker_addr, int64_t* commit_log_offset);
// The inverse, for tests and tools.
std::string encode_offset_msg_id(uint32_t ipv4, uint32_t port, int64_t commit_log_offset);

// One message in detail (queryMsgById / queryMsgByOffset).
Report message_report(const std::string& broker, const wire::MessageExt& m);
// Messages in a table (queryMsgByKey).
Report message_list_report(const std::vector<std::pair<std::string, wire::MessageExt>>& messages);
Report broker_status_report(const std::string& addr, const wire::RuntimeInfoResponse& info);
// Connections, subscriptions and, when members disagree, an INCONSISTENT section.
Report consumer_connection_report(const std::string& group, const wire::ConsumerConnectionResponse& r);
Report producer_connection_report(const std::string& group, const wire::ProducerConnectionResponse& r);

}  // namespace mq::admin
