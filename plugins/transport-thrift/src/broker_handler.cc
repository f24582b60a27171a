// BrokerHandler: wire <-> kernel for every BrokerService method.
#include "broker_handler.h"

#include "completion.h"
#include "convert.h"

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
    api_.send(to_kernel(request), [done](mq::SendResponse response) {
      done->complete_with([&] { return to_wire(response); });
    });
  });
}

void BrokerHandler::sendOneway(std::function<void()> cob, const wire::SendRequest& request) {
  // Nothing goes back to the client; failures are only logged.
  try {
    api_.send(to_kernel(request), [logger = logger_](mq::SendResponse response) {
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
    api_.pull(to_kernel(request), [done](mq::PullResponse response) {
      done->complete_with([&] { return to_wire(response); });
    });
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
  guarded(done, [&] { done->complete(status_response<wire::BaseResponse>(api_.heartbeat(to_kernel(request)))); });
}

void BrokerHandler::unregisterClient(std::function<void(const wire::BaseResponse&)> cob,
                                     const std::string& client_id) {
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

}  // namespace mq::transport_thrift
