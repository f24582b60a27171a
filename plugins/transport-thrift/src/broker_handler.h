// BrokerHandler: implements the generated asynchronous BrokerService interface by converting
// wire requests to kernel calls on mq::BrokerApi and kernel replies back to wire responses.
#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "BrokerService.h"
#include "mq/broker_api.h"

namespace mq::transport_thrift {

// Threading: called concurrently from io threads; keeps no per-request state of its own. The
// caller's address comes from current_peer() (peer_scope.h), valid while a call is dispatched.
// Lifetime: `api` must outlive every call (the Server guarantees no call starts after stop()).
class BrokerHandler final : public wire::BrokerServiceCobSvIf {
 public:
  BrokerHandler(BrokerApi& api, std::shared_ptr<spdlog::logger> logger) : api_(api), logger_(std::move(logger)) {}

  void send(std::function<void(const wire::SendResponse&)> cob, const wire::SendRequest& request) override;
  void sendOneway(std::function<void()> cob, const wire::SendRequest& request) override;
  void pull(std::function<void(const wire::PullResponse&)> cob, const wire::PullRequest& request) override;
  void queryConsumerOffset(std::function<void(const wire::OffsetResponse&)> cob,
                           const wire::ConsumerOffsetRequest& request) override;
  void updateConsumerOffset(std::function<void(const wire::BaseResponse&)> cob,
                            const wire::ConsumerOffsetRequest& request) override;
  void getMinOffset(std::function<void(const wire::OffsetResponse&)> cob, const wire::QueueRef& queue) override;
  void getMaxOffset(std::function<void(const wire::OffsetResponse&)> cob, const wire::QueueRef& queue) override;
  void searchOffsetByTimestamp(std::function<void(const wire::OffsetResponse&)> cob,
                               const wire::SearchOffsetRequest& request) override;
  void heartbeat(std::function<void(const wire::BaseResponse&)> cob, const wire::HeartbeatRequest& request) override;
  void unregisterClient(std::function<void(const wire::BaseResponse&)> cob, const std::string& client_id) override;
  void getConsumerList(std::function<void(const wire::ConsumerListResponse&)> cob,
                       const std::string& consumer_group) override;
  void createTopic(std::function<void(const wire::BaseResponse&)> cob, const wire::TopicConfig& config) override;
  void getTopicList(std::function<void(const wire::TopicListResponse&)> cob) override;
  void getConsumeStats(std::function<void(const wire::ConsumeStatsResponse&)> cob, const std::string& consumer_group,
                       const std::string& topic) override;
  void getBrokerRuntimeInfo(std::function<void(const wire::RuntimeInfoResponse&)> cob) override;
  void getServerInfo(std::function<void(const wire::ServerInfoResponse&)> cob) override;
  void lockBatchMQ(std::function<void(const wire::LockBatchResponse&)> cob,
                   const wire::LockBatchRequest& request) override;
  void unlockBatchMQ(std::function<void(const wire::BaseResponse&)> cob, const wire::LockBatchRequest& request) override;
  // Long poll like pull: the kernel holds the reply; no thread waits.
  void waitConsumerGroupChange(std::function<void(const wire::ConsumerGroupChangeResponse&)> cob,
                               const wire::ConsumerGroupChangeRequest& request) override;
  void deleteTopic(std::function<void(const wire::BaseResponse&)> cob, const std::string& topic) override;
  void updateSubscriptionGroup(std::function<void(const wire::BaseResponse&)> cob,
                               const wire::SubscriptionGroupConfig& config) override;
  void getAllSubscriptionGroups(std::function<void(const wire::SubscriptionGroupListResponse&)> cob) override;
  void viewMessage(std::function<void(const wire::MessageResponse&)> cob, int64_t commit_log_offset) override;
  void queryMessageByKey(std::function<void(const wire::QueryMessageResponse&)> cob,
                         const wire::QueryMessageRequest& request) override;
  void resetOffsetByTimestamp(std::function<void(const wire::ResetOffsetResponse&)> cob,
                              const wire::ResetOffsetRequest& request) override;
  void getConsumerConnectionList(std::function<void(const wire::ConsumerConnectionResponse&)> cob,
                                 const std::string& consumer_group) override;
  void consumerSendMsgBack(std::function<void(const wire::BaseResponse&)> cob,
                           const wire::ConsumerSendBackRequest& request) override;
  void cancelScheduledMessage(std::function<void(const wire::BaseResponse&)> cob,
                              const wire::CancelScheduledRequest& request) override;
  void endTransaction(std::function<void(const wire::BaseResponse&)> cob,
                      const wire::EndTransactionRequest& request) override;
  void pollTransactionChecks(std::function<void(const wire::TransactionCheckPollResponse&)> cob,
                             const wire::TransactionCheckPollRequest& request) override;
  void getProducerConnectionList(std::function<void(const wire::ProducerConnectionResponse&)> cob,
                                 const std::string& producer_group) override;

 private:
  BrokerApi& api_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mq::transport_thrift
