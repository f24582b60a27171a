// Pull and offset calls.
#include "pull_ops.h"

#include "mq_constants.h"
#include "wire_convert.h"

namespace mq::client {
namespace {
void set_status(Status* out, Status s) {
  if (out != nullptr) *out = std::move(s);
}
wire::QueueRef ref_of(const MessageQueue& mq) {
  wire::QueueRef ref;
  ref.topic = mq.topic;
  ref.queueId = mq.queue_id;
  return ref;
}
}  // namespace

PullResult::PullStatus pull_status_from_code(int c, bool has_messages) {
  switch (c) {
    case code::kSuccess:
      return has_messages ? PullResult::PullStatus::kFound : PullResult::PullStatus::kNoMatchedMsg;
    case code::kPullNotFound:
      return PullResult::PullStatus::kNoNewMsg;
    case code::kPullRetryImmediately:
      return PullResult::PullStatus::kNoMatchedMsg;
    case code::kPullOffsetMoved:
      return PullResult::PullStatus::kOffsetIllegal;
    default:
      return PullResult::PullStatus::kError;
  }
}

PullResult pull_queue(ClientInstance& client, const std::string& addr, const std::string& group, const MessageQueue& mq,
                      const TagFilter& filter, int64_t offset, int max_nums, int64_t suspend_ms,
                      int64_t* suggested_broker_id) {
  PullResult result;
  if (suggested_broker_id != nullptr) *suggested_broker_id = 0;
  if (addr.empty()) {
    result.code = code::kNoRoute;
    result.remark = "no master address for broker " + mq.broker_name;
    return result;
  }
  wire::PullRequest request;
  request.consumerGroup = group;
  request.topic = mq.topic;
  request.queueId = mq.queue_id;
  request.queueOffset = offset;
  request.maxMsgs = max_nums;
  request.suspendTimeoutMs = suspend_ms;
  request.commitOffset = -1;
  request.subscription = filter.expression();
  request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
  request.__set_wantRecords(true);
  wire::PullResponse response;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.pull(response, request); });
  if (!s) {
    result.code = s.code();
    result.remark = s.remark();
    return result;
  }
  if (suggested_broker_id != nullptr && response.__isset.suggestWhichBrokerId)
    *suggested_broker_id = response.suggestWhichBrokerId;
  result.code = response.code;
  result.remark = response.remark;
  result.next_begin_offset = response.nextBeginOffset;
  result.min_offset = response.minOffset;
  result.max_offset = response.maxOffset;
  std::vector<MessageExt> pulled;
  if (std::string bad = messages_from_pull(response, &pulled); !bad.empty()) {
    // Bad data, not a bad connection (kRpcFailed would mark the broker unreachable); the
    // caller pulls the same offset again.
    result.code = code::kSystemError;
    result.remark = "broker " + addr + ": " + bad;
    result.next_begin_offset = offset;
    result.status = PullResult::PullStatus::kError;
    return result;
  }
  if (response.code == code::kSuccess && !pulled.empty() && result.next_begin_offset <= pulled.back().queue_offset())
    result.next_begin_offset = pulled.back().queue_offset() + 1;
  for (auto& m : pulled)
    if (filter.matches(m.tags())) result.messages.push_back(std::move(m));
  result.status = pull_status_from_code(response.code, !result.messages.empty());
  return result;
}

int64_t queue_offset(ClientInstance& client, const std::string& addr, const MessageQueue& mq, OffsetKind kind,
                     Status* status) {
  wire::OffsetResponse r;
  wire::QueueRef ref = ref_of(mq);
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) {
    if (kind == OffsetKind::kMin) {
      b.getMinOffset(r, ref);
    } else {
      b.getMaxOffset(r, ref);
    }
  });
  if (s && r.code != code::kSuccess) s = Status(r.code, r.remark);
  set_status(status, s);
  return s ? r.offset : -1;
}

int64_t search_queue_offset(ClientInstance& client, const std::string& addr, const MessageQueue& mq,
                            int64_t timestamp_ms, Status* status) {
  wire::SearchOffsetRequest request;
  request.topic = mq.topic;
  request.queueId = mq.queue_id;
  request.timestamp = timestamp_ms;
  wire::OffsetResponse r;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.searchOffsetByTimestamp(r, request); });
  if (s && r.code != code::kSuccess) s = Status(r.code, r.remark);
  set_status(status, s);
  return s ? r.offset : -1;
}

int64_t committed_offset(ClientInstance& client, const std::string& addr, const std::string& group,
                         const MessageQueue& mq, Status* status) {
  wire::ConsumerOffsetRequest request;
  request.consumerGroup = group;
  request.topic = mq.topic;
  request.queueId = mq.queue_id;
  wire::OffsetResponse r;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.queryConsumerOffset(r, request); });
  if (!s) {
    set_status(status, s);
    return -1;
  }
  if (r.code == code::kQueryNotFound) {
    set_status(status, Status::ok());
    return -1;
  }
  if (r.code != code::kSuccess) {
    set_status(status, Status(r.code, r.remark));
    return -1;
  }
  set_status(status, Status::ok());
  return r.offset;
}

Status commit_queue_offset(ClientInstance& client, const std::string& addr, const std::string& group,
                           const MessageQueue& mq, int64_t offset) {
  wire::ConsumerOffsetRequest request;
  request.consumerGroup = group;
  request.topic = mq.topic;
  request.queueId = mq.queue_id;
  request.offset = offset;
  wire::BaseResponse r;
  Status s = client.call_broker(addr, [&](wire::BrokerServiceClient& b) { b.updateConsumerOffset(r, request); });
  if (s && r.code != code::kSuccess) s = Status(r.code, r.remark);
  return s;
}

}  // namespace mq::client
