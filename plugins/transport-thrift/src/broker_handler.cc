// BrokerHandler: wire <-> kernel for every BrokerService method.
#include "broker_handler.h"

#include "client_version.h"
#include "completion.h"
#include "convert.h"
#include "peer_scope.h"

namespace mq::transport_thrift {
namespace {

template <typename T>
wire::OffsetResponse offset_response(const Result<T>& result) {
  auto out = status_response<wire::OffsetResponse>(result.status());
  if (result.is_ok()) {
    if constexpr (std::is_same_v<T, int64_t>) {
      out.offset = *result;
    } else {
      out.offset = result->value();
    }
  }
  return out;
}

}  // namespace

void BrokerHandler::send(std::function<void(const wire::SendResponse&)> cob, const wire::SendRequest& request) {
  auto done = make_completion(std::move(cob), "send", logger_);
  guarded(done, [&] {
    if (Status st = check_client_version(request, "send"); !st.is_ok()) return done->fail(st);
    // The generated processor passes its own non-const args object and drops it after this call:
    // moving the bodies out of it saves a copy of every message.
    api_.send(to_kernel(std::move(const_cast<wire::SendRequest&>(request))),
              [done](mq::SendResponse response) {
                done->complete_with([&] { return to_wire(std::move(response)); });
              });
  });
}

void BrokerHandler::sendOneway(std::function<void()> cob, const wire::SendRequest& request) {
  // Nothing goes back to the client; failures are only logged.
  try {
    if (Status st = check_client_version(request, "sendOneway"); !st.is_ok()) {
      logger_->warn("sendOneway from {} dropped: {}", current_peer(), st.message());
      cob();
      return;
    }
    api_.send(to_kernel(std::move(const_cast<wire::SendRequest&>(request))), [logger = logger_](mq::SendResponse response) {
      if (!response.status.is_ok()) logger->debug("sendOneway failed: {}", response.status.to_string());
    });
  } catch (const std::exception& e) {
    logger_->warn("sendOneway failed in the broker: {}", e.what());
  }
  cob();
}

void BrokerHandler::pull(std::function<void(const wire::PullResponse&)> cob, const wire::PullRequest& request) {
  auto done = make_completion(std::move(cob), "pull", logger_);
  guarded(done, [&] {
    if (Status st = check_client_version(request, "pull"); !st.is_ok()) return done->fail(st);
    api_.pull(to_kernel(request),
              [done](mq::PullResponse response) { done->complete_with([&] { return to_wire(std::move(response)); }); });
  });
}

void BrokerHandler::queryConsumerOffset(std::function<void(const wire::OffsetResponse&)> cob,
                                        const wire::ConsumerOffsetRequest& request) {
  auto done = make_completion(std::move(cob), "queryConsumerOffset", logger_);
  guarded(done, [&] {
    done->complete(offset_response(api_.query_consumer_offset(request.consumerGroup, request.topic, request.queueId)));
  });
}

void BrokerHandler::updateConsumerOffset(std::function<void(const wire::BaseResponse&)> cob,
                                         const wire::ConsumerOffsetRequest& request) {
  auto done = make_completion(std::move(cob), "updateConsumerOffset", logger_);
  guarded(done, [&] {
    done->complete(status_response<wire::BaseResponse>(
        api_.update_consumer_offset(request.consumerGroup, request.topic, request.queueId, request.offset)));
  });
}

void BrokerHandler::getMinOffset(std::function<void(const wire::OffsetResponse&)> cob, const wire::QueueRef& queue) {
  auto done = make_completion(std::move(cob), "getMinOffset", logger_);
  guarded(done, [&] { done->complete(offset_response(api_.min_offset(queue.topic, queue.queueId))); });
}

void BrokerHandler::getMaxOffset(std::function<void(const wire::OffsetResponse&)> cob, const wire::QueueRef& queue) {
  auto done = make_completion(std::move(cob), "getMaxOffset", logger_);
  guarded(done, [&] { done->complete(offset_response(api_.max_offset(queue.topic, queue.queueId))); });
}

void BrokerHandler::searchOffsetByTimestamp(std::function<void(const wire::OffsetResponse&)> cob,
                                            const wire::SearchOffsetRequest& request) {
  auto done = make_completion(std::move(cob), "searchOffsetByTimestamp", logger_);
  guarded(done, [&] {
    done->complete(offset_response(api_.search_offset_by_timestamp(request.topic, request.queueId, request.timestamp)));
  });
}

void BrokerHandler::heartbeat(std::function<void(const wire::BaseResponse&)> cob,
                              const wire::HeartbeatRequest& request) {
  auto done = make_completion(std::move(cob), "heartbeat", logger_);
  guarded(done, [&] {
    if (Status st = check_client_version(request, "heartbeat"); !st.is_ok()) return done->fail(st);
    mq::HeartbeatRequest kernel_request = to_kernel(request);
    kernel_request.client_addr = current_peer();  // read now: valid only in this synchronous call
    done->complete(status_response<wire::BaseResponse>(api_.heartbeat(kernel_request)));
  });
}

void BrokerHandler::unregisterClient(std::function<void(const wire::BaseResponse&)> cob, const std::string& client_id) {
  auto done = make_completion(std::move(cob), "unregisterClient", logger_);
  guarded(done, [&] { done->complete(status_response<wire::BaseResponse>(api_.unregister_client(client_id))); });
}

void BrokerHandler::getConsumerList(std::function<void(const wire::ConsumerListResponse&)> cob,
                                    const std::string& consumer_group) {
  auto done = make_completion(std::move(cob), "getConsumerList", logger_);
  guarded(done, [&] {
    auto ids = api_.consumer_ids(consumer_group);
    auto out = status_response<wire::ConsumerListResponse>(ids.status());
    if (ids.is_ok()) out.consumerIds = std::move(ids).value();
    done->complete(out);
  });
}

void BrokerHandler::createTopic(std::function<void(const wire::BaseResponse&)> cob, const wire::TopicConfig& config) {
  auto done = make_completion(std::move(cob), "createTopic", logger_);
  guarded(done, [&] { done->complete(status_response<wire::BaseResponse>(api_.create_topic(to_kernel(config)))); });
}

void BrokerHandler::getTopicList(std::function<void(const wire::TopicListResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getTopicList", logger_);
  guarded(done, [&] {
    auto out = status_response<wire::TopicListResponse>(Status::ok());
    for (const auto& t : api_.topics()) out.topics.push_back(to_wire(t));
    done->complete(out);
  });
}

void BrokerHandler::getConsumeStats(std::function<void(const wire::ConsumeStatsResponse&)> cob,
                                    const std::string& consumer_group, const std::string& topic) {
  auto done = make_completion(std::move(cob), "getConsumeStats", logger_);
  guarded(done, [&] {
    auto stats = api_.consume_stats(consumer_group, topic);
    auto out = status_response<wire::ConsumeStatsResponse>(stats.status());
    if (stats.is_ok()) {
      for (const auto& q : *stats) out.queues.push_back(to_wire(q));
    }
    done->complete(out);
  });
}

void BrokerHandler::getBrokerRuntimeInfo(std::function<void(const wire::RuntimeInfoResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getBrokerRuntimeInfo", logger_);
  guarded(done, [&] {
    auto out = status_response<wire::RuntimeInfoResponse>(Status::ok());
    out.info = api_.runtime_info();
    done->complete(out);
  });
}

void BrokerHandler::getServerInfo(std::function<void(const wire::ServerInfoResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getServerInfo", logger_);
  guarded(done, [&] {
    auto out = status_response<wire::ServerInfoResponse>(Status::ok());
    out.protocolVersion = protocol_version();
    out.minClientVersion = kMinClientVersion;
    out.serverVersion = kServerVersion;
    done->complete(out);
  });
}

void BrokerHandler::lockBatchMQ(std::function<void(const wire::LockBatchResponse&)> cob,
                                const wire::LockBatchRequest& request) {
  auto done = make_completion(std::move(cob), "lockBatchMQ", logger_);
  guarded(done, [&] {
    auto locked = api_.lock_batch(request.consumerGroup, request.clientId, to_kernel(request.queues));
    auto out = status_response<wire::LockBatchResponse>(locked.status());
    if (locked.is_ok()) out.lockedQueues = to_wire(*locked);
    done->complete(out);
  });
}

void BrokerHandler::unlockBatchMQ(std::function<void(const wire::BaseResponse&)> cob,
                                  const wire::LockBatchRequest& request) {
  auto done = make_completion(std::move(cob), "unlockBatchMQ", logger_);
  guarded(done, [&] {
    done->complete(status_response<wire::BaseResponse>(
        api_.unlock_batch(request.consumerGroup, request.clientId, to_kernel(request.queues))));
  });
}

void BrokerHandler::waitConsumerGroupChange(std::function<void(const wire::ConsumerGroupChangeResponse&)> cob,
                                            const wire::ConsumerGroupChangeRequest& request) {
  auto done = make_completion(std::move(cob), "waitConsumerGroupChange", logger_);
  guarded(done, [&] {
    api_.wait_consumer_group_change(
        request.consumerGroup, request.clientId, request.knownVersion, request.timeoutMs,
        [done](ConsumerGroupChange change) { done->complete_with([&] { return to_wire(change); }); });
  });
}

void BrokerHandler::deleteTopic(std::function<void(const wire::BaseResponse&)> cob, const std::string& topic) {
  auto done = make_completion(std::move(cob), "deleteTopic", logger_);
  guarded(done, [&] { done->complete(status_response<wire::BaseResponse>(api_.delete_topic(topic))); });
}

void BrokerHandler::updateSubscriptionGroup(std::function<void(const wire::BaseResponse&)> cob,
                                            const wire::SubscriptionGroupConfig& config) {
  auto done = make_completion(std::move(cob), "updateSubscriptionGroup", logger_);
  guarded(done, [&] {
    done->complete(status_response<wire::BaseResponse>(api_.update_subscription_group(to_kernel(config))));
  });
}

void BrokerHandler::getAllSubscriptionGroups(std::function<void(const wire::SubscriptionGroupListResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getAllSubscriptionGroups", logger_);
  guarded(done, [&] {
    auto out = status_response<wire::SubscriptionGroupListResponse>(Status::ok());
    for (const auto& g : api_.subscription_groups()) out.groups.push_back(to_wire(g));
    done->complete(out);
  });
}

void BrokerHandler::viewMessage(std::function<void(const wire::MessageResponse&)> cob, int64_t commit_log_offset) {
  auto done = make_completion(std::move(cob), "viewMessage", logger_);
  guarded(done, [&] {
    auto message = api_.view_message(CommitLogOffset(commit_log_offset));
    auto out = status_response<wire::MessageResponse>(message.status());
    if (message.is_ok()) out.message = to_wire(*message);
    done->complete(out);
  });
}

void BrokerHandler::queryMessageByKey(std::function<void(const wire::QueryMessageResponse&)> cob,
                                      const wire::QueryMessageRequest& request) {
  auto done = make_completion(std::move(cob), "queryMessageByKey", logger_);
  guarded(done, [&] {
    auto found = api_.query_message_by_key(request.topic, request.key, request.maxNum, request.beginTimestamp,
                                           request.endTimestamp);
    auto out = status_response<wire::QueryMessageResponse>(found.status());
    if (found.is_ok()) {
      out.messages.reserve(found->size());
      for (const auto& m : *found) out.messages.push_back(to_wire(m));
    }
    done->complete(out);
  });
}

void BrokerHandler::resetOffsetByTimestamp(std::function<void(const wire::ResetOffsetResponse&)> cob,
                                           const wire::ResetOffsetRequest& request) {
  auto done = make_completion(std::move(cob), "resetOffsetByTimestamp", logger_);
  guarded(done, [&] {
    auto table = api_.reset_offset_by_timestamp(request.consumerGroup, request.topic, request.timestamp, request.force);
    auto out = status_response<wire::ResetOffsetResponse>(table.status());
    if (table.is_ok()) out.offsetTable = {table->begin(), table->end()};
    done->complete(out);
  });
}

void BrokerHandler::getConsumerConnectionList(std::function<void(const wire::ConsumerConnectionResponse&)> cob,
                                              const std::string& consumer_group) {
  auto done = make_completion(std::move(cob), "getConsumerConnectionList", logger_);
  guarded(done, [&] {
    auto connection = api_.consumer_connection(consumer_group);
    auto out = status_response<wire::ConsumerConnectionResponse>(connection.status());
    if (connection.is_ok()) fill_wire(*connection, out);
    done->complete(out);
  });
}

void BrokerHandler::getProducerConnectionList(std::function<void(const wire::ProducerConnectionResponse&)> cob,
                                              const std::string& producer_group) {
  auto done = make_completion(std::move(cob), "getProducerConnectionList", logger_);
  guarded(done, [&] {
    auto connections = api_.producer_connection(producer_group);
    auto out = status_response<wire::ProducerConnectionResponse>(connections.status());
    if (connections.is_ok()) {
      for (const auto& c : *connections) out.connections.push_back(to_wire(c));
    }
    done->complete(out);
  });
}

// The plugin-served calls complete from the plugin's thread; the request is moved into
// the kernel call, so nothing here outlives the handler frame.
void BrokerHandler::consumerSendMsgBack(std::function<void(const wire::BaseResponse&)> cob,
                                        const wire::ConsumerSendBackRequest& request) {
  auto done = make_completion(std::move(cob), "consumerSendMsgBack", logger_);
  guarded(done, [&] {
    api_.consumer_send_back(to_kernel(request), [done](Status st) {
      done->complete_with([&] { return status_response<wire::BaseResponse>(st); });
    });
  });
}

void BrokerHandler::cancelScheduledMessage(std::function<void(const wire::BaseResponse&)> cob,
                                           const wire::CancelScheduledRequest& request) {
  auto done = make_completion(std::move(cob), "cancelScheduledMessage", logger_);
  guarded(done, [&] {
    api_.cancel_scheduled(request.topic, request.msgId, [done](Status st) {
      done->complete_with([&] { return status_response<wire::BaseResponse>(st); });
    });
  });
}

void BrokerHandler::endTransaction(std::function<void(const wire::BaseResponse&)> cob,
                                   const wire::EndTransactionRequest& request) {
  auto done = make_completion(std::move(cob), "endTransaction", logger_);
  guarded(done, [&] {
    api_.end_transaction(to_kernel(request), [done](Status st) {
      done->complete_with([&] { return status_response<wire::BaseResponse>(st); });
    });
  });
}

void BrokerHandler::pollTransactionChecks(std::function<void(const wire::TransactionCheckPollResponse&)> cob,
                                          const wire::TransactionCheckPollRequest& request) {
  auto done = make_completion(std::move(cob), "pollTransactionChecks", logger_);
  guarded(done, [&] {
    api_.poll_transaction_checks(
        to_kernel(request), [done](TransactionChecks checks) { done->complete_with([&] { return to_wire(checks); }); });
  });
}

}  // namespace mq::transport_thrift
