// Conversions between wire (Thrift-generated, mq::wire) and kernel (mq) request and reply
// types. Pure functions; a malformed wire value throws ConversionError naming the field.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mq/broker_api.h"
#include "mq_types.h"

namespace mq::transport_thrift {

// A wire value the kernel types cannot represent; handlers answer INVALID_PARAMETER.
class ConversionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "a.b.c.d:port" <-> HostAddress; "" converts to an all-zero address and back to "".
HostAddress parse_host_address(std::string_view text, std::string_view field);
std::string format_host_address(const HostAddress& address);

// Every wire response starts with code + remark; this fills them from a Status.
template <typename WireResponse>
void set_status(WireResponse& out, const Status& status) {
  out.code = static_cast<int32_t>(status.code());
  out.remark = status.message();
}
template <typename WireResponse>
WireResponse status_response(const Status& status) {
  WireResponse out;
  set_status(out, status);
  return out;
}
// A wire reply code back to a kernel Status (client side).
Status to_status(int32_t code, const std::string& remark);

// ---- broker: requests (wire -> kernel) ----
mq::Message to_kernel(const wire::Message& in);
mq::SendRequest to_kernel(const wire::SendRequest& in);
// Moves bodies, strings and property nodes out of `in` (no per-message copies on the send path).
mq::SendRequest to_kernel(wire::SendRequest&& in);
mq::PullRequest to_kernel(const wire::PullRequest& in);
mq::TopicConfig to_kernel(const wire::TopicConfig& in);
mq::HeartbeatRequest to_kernel(const wire::HeartbeatRequest& in);  // client_addr is left empty
mq::QueueRef to_kernel(const wire::QueueRef& in);
std::vector<mq::QueueRef> to_kernel(const std::vector<wire::QueueRef>& in);
mq::SubscriptionGroupConfig to_kernel(const wire::SubscriptionGroupConfig& in);
mq::ConsumerSendBack to_kernel(const wire::ConsumerSendBackRequest& in);
mq::EndTransaction to_kernel(const wire::EndTransactionRequest& in);
mq::TransactionCheckPoll to_kernel(const wire::TransactionCheckPollRequest& in);

// ---- broker: replies (kernel -> wire) ----
wire::MessageExt to_wire(const StoredMessage& in);
wire::MessageExt to_wire(StoredMessage&& in);  // moves topic, body and property nodes
wire::SendBatchResult to_wire(const mq::SendBatchResult& in);
wire::SendResponse to_wire(const mq::SendResponse& in);
wire::SendResponse to_wire(mq::SendResponse&& in);
wire::PullResponse to_wire(mq::PullResponse&& in);  // moves the messages
wire::TopicConfig to_wire(const mq::TopicConfig& in);
wire::QueueConsumeStat to_wire(const mq::QueueConsumeStat& in);
wire::QueueRef to_wire(const mq::QueueRef& in);
std::vector<wire::QueueRef> to_wire(const std::vector<mq::QueueRef>& in);
wire::ConsumerGroupChangeResponse to_wire(const ConsumerGroupChange& in);  // code/remark from in.status
wire::SubscriptionGroupConfig to_wire(const mq::SubscriptionGroupConfig& in);
wire::ConnectionInfo to_wire(const mq::ConnectionInfo& in);
wire::SubscriptionData to_wire(const mq::SubscriptionData& in);
wire::TransactionCheckPollResponse to_wire(const TransactionChecks& in);  // code/remark from in.status
// Fills everything but code/remark.
void fill_wire(const ConsumerConnection& in, wire::ConsumerConnectionResponse& out);

// ---- name server ----
BrokerRegistration to_kernel(const wire::RegisterBrokerRequest& in);
wire::RegisterBrokerRequest to_wire(const BrokerRegistration& in);
wire::QueueData to_wire(const mq::QueueData& in);
wire::BrokerData to_wire(const mq::BrokerData& in);
wire::TopicRouteResponse to_wire(const TopicRoute& in);
wire::ClusterInfoResponse to_wire(const ClusterInfo& in);

// Enum spellings as RocketMQ writes them ("PUSH", "CLUSTERING", "CONSUME_FROM_LAST_OFFSET").
std::string_view to_wire(ConsumeType value);
std::string_view to_wire(MessageModel value);
std::string_view to_wire(ConsumeFromWhere value);

}  // namespace mq::transport_thrift
