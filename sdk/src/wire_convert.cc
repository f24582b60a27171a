// Wire conversions.
#include "wire_convert.h"

#include <arpa/inet.h>

#include "mq/encoded_batch.h"
#include "mq/message.h"  // HostAddress, make_offset_msg_id: the broker's own formatting (header-only)

namespace mq::client {
namespace {

// "ip:port" as the broker formats it; "" for an unset host.
std::string host_string(uint32_t ipv4, int32_t port) {
  const HostAddress host{ipv4, port};
  return host == HostAddress{} ? std::string() : host.to_string();
}

// "a.b.c.d:port" as the broker formats a host; false for anything else.
bool parse_host(const std::string& text, HostAddress* out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  in_addr addr{};
  if (::inet_pton(AF_INET, text.substr(0, colon).c_str(), &addr) != 1) return false;
  try {
    size_t used = 0;
    const int port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) return false;
    *out = HostAddress{ntohl(addr.s_addr), port};
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// Returns an empty string, or what is malformed in the record's properties.
std::string from_record(const record::RecordView& r, MessageExt* msg) {
  std::map<std::string, std::string> properties;
  std::string bad = record::for_each_encoded_property(r.properties, [&](std::string_view name, std::string_view value) {
    properties.insert_or_assign(std::string(name), std::string(value));
  });
  if (!bad.empty()) return bad;
  MessageExt& out = *msg;
  out.set_topic(std::string(r.topic));
  out.set_flag(r.flag);
  out.set_properties(std::move(properties));
  out.set_body(std::string(r.body));
  out.set_queue_id(r.queue_id);
  out.set_queue_offset(r.queue_offset);
  out.set_commit_log_offset(r.commit_log_offset);
  out.set_born_timestamp(r.born_timestamp_ms);
  out.set_born_host(host_string(r.born_ipv4, r.born_port));
  out.set_store_timestamp(r.store_timestamp_ms);
  out.set_store_host(host_string(r.store_ipv4, r.store_port));
  out.set_reconsume_times(r.reconsume_times);
  out.set_offset_msg_id(
      make_offset_msg_id(HostAddress{r.store_ipv4, r.store_port}, CommitLogOffset(r.commit_log_offset)));
  out.set_store_size(r.size);
  return {};
}

}  // namespace

wire::Message to_wire(const Message& message) {
  wire::Message out;
  out.topic = message.topic();
  out.flag = message.flag();
  out.properties = message.properties();
  out.body = message.body();
  return out;
}

MessageExt from_wire(const wire::MessageExt& m) {
  MessageExt out;
  out.set_topic(m.topic);
  out.set_flag(m.flag);
  out.set_properties(m.properties);
  out.set_body(m.body);
  out.set_queue_id(m.queueId);
  out.set_queue_offset(m.queueOffset);
  out.set_commit_log_offset(m.commitLogOffset);
  out.set_born_timestamp(m.bornTimestamp);
  out.set_born_host(m.bornHost);
  out.set_store_timestamp(m.storeTimestamp);
  out.set_store_host(m.storeHost);
  out.set_reconsume_times(m.reconsumeTimes);
  out.set_offset_msg_id(m.offsetMsgId);
  out.set_store_size(m.storeSize);
  return out;
}

std::string messages_from_pull(const wire::PullResponse& response, std::vector<MessageExt>* out) {
  if (!response.__isset.records) {
    out->reserve(out->size() + response.messages.size());
    for (const auto& m : response.messages) out->push_back(from_wire(m));
    return {};
  }
  std::string_view rest = response.records;
  while (!rest.empty()) {
    record::RecordView r;
    if (std::string why = record::parse_record(rest, &r); !why.empty())
      return "message record " + std::to_string(out->size()) + " of the pull response is malformed: " + why;
    MessageExt msg;
    if (std::string why = from_record(r, &msg); !why.empty())
      return "message record " + std::to_string(out->size()) + " of the pull response has malformed properties: " + why;
    out->push_back(std::move(msg));
    rest.remove_prefix(static_cast<size_t>(r.size));
  }
  return {};
}

SendResult send_result_from_wire(const wire::SendResponse& response, const MessageQueue& queue,
                                 const std::string& msg_id) {
  SendResult result;
  result.code = response.code;
  result.remark = response.remark;
  result.msg_id = msg_id;
  result.message_queue = queue;
  if (response.queueId >= 0) result.message_queue.queue_id = response.queueId;
  switch (response.code) {
    case code::kSuccess:
      result.status = SendStatus::kSendOk;
      break;
    case code::kFlushDiskTimeout:
      result.status = SendStatus::kFlushDiskTimeout;
      break;
    case code::kFlushSlaveTimeout:
      result.status = SendStatus::kFlushSlaveTimeout;
      break;
    case code::kSlaveNotAvailable:
      result.status = SendStatus::kSlaveNotAvailable;
      break;
    default:
      result.status = SendStatus::kSendFailed;
      return result;
  }
  if (!response.results.empty()) {
    const auto& item = response.results.front();
    if (!item.msgId.empty()) result.msg_id = item.msgId;
    result.offset_msg_id = item.offsetMsgId;
    result.queue_offset = item.queueOffset;
  } else if (response.__isset.batch) {
    if (auto it = response.batch.assignedMsgIds.find(0); it != response.batch.assignedMsgIds.end())
      result.msg_id = it->second;
    HostAddress host;
    if (!response.batch.commitLogOffsets.empty() && parse_host(response.batch.storeHost, &host))
      result.offset_msg_id = make_offset_msg_id(host, CommitLogOffset(response.batch.commitLogOffsets.front()));
    result.queue_offset = response.batch.firstQueueOffset;
  }
  return result;
}

bool predates_encoded_batches(const wire::SendResponse& response) {
  return response.code == code::kInvalidParameter && response.remark.find("carries no message") != std::string::npos;
}

wire::SendRequest encoded_batch_request(const wire::SendRequest& request) {
  wire::SendRequest out;
  out.producerGroup = request.producerGroup;
  out.topic = request.topic;
  out.queueId = request.queueId;
  out.bornTimestamp = request.bornTimestamp;
  out.bornHost = request.bornHost;
  out.sysFlag = request.sysFlag;
  out.reconsumeTimes = request.reconsumeTimes;
  out.clientVersion = request.clientVersion;
  out.__isset = request.__isset;
  out.__isset.messages = false;
  size_t bytes = 0;
  for (const wire::Message& m : request.messages) bytes += batch::kMessageOverhead + m.body.size() + 64;
  out.encodedMessages.reserve(bytes);
  std::string props;
  for (const wire::Message& m : request.messages) {
    props.clear();
    for (const auto& [k, v] : m.properties) append_encoded_property(k, v, &props);
    batch::append_encoded_message(m.flag, m.body, props, &out.encodedMessages);
  }
  out.__isset.encodedMessages = true;
  return out;
}

std::vector<SendResult> batch_results_from_wire(const wire::SendResponse& response, const SendResult& head,
                                                const std::vector<wire::Message>& sent) {
  std::vector<SendResult> out;
  out.reserve(sent.size());
  const wire::SendBatchResult& b = response.batch;
  HostAddress store_host;
  const bool host_ok = response.__isset.batch && parse_host(b.storeHost, &store_host);
  for (size_t i = 0; i < sent.size(); ++i) {
    SendResult item = head;
    auto uniq = sent[i].properties.find(property::kUniqKey);
    item.msg_id = uniq == sent[i].properties.end() ? std::string() : uniq->second;
    item.offset_msg_id.clear();
    item.queue_offset = -1;
    if (response.__isset.batch) {
      if (auto it = b.assignedMsgIds.find(static_cast<int32_t>(i)); it != b.assignedMsgIds.end())
        item.msg_id = it->second;
      if (i < b.commitLogOffsets.size()) {
        if (host_ok) item.offset_msg_id = make_offset_msg_id(store_host, CommitLogOffset(b.commitLogOffsets[i]));
        item.queue_offset = b.firstQueueOffset + static_cast<int64_t>(i);
      }
    } else if (i < response.results.size()) {
      if (!response.results[i].msgId.empty()) item.msg_id = response.results[i].msgId;
      item.offset_msg_id = response.results[i].offsetMsgId;
      item.queue_offset = response.results[i].queueOffset;
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace mq::client
