// NameServerHandler: implements the generated asynchronous NameServerService interface on top
// of mq::NameServerApi (every call is synchronous in the kernel, so each completes at once).
#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "NameServerService.h"
#include "mq/broker_api.h"

namespace mq::transport_thrift {

// Threading: called concurrently from io threads. Lifetime: `api` outlives every call.
class NameServerHandler final : public wire::NameServerServiceCobSvIf {
 public:
  NameServerHandler(NameServerApi& api, std::shared_ptr<spdlog::logger> logger)
      : api_(api), logger_(std::move(logger)) {}

  void registerBroker(std::function<void(const wire::BaseResponse&)> cob,
                      const wire::RegisterBrokerRequest& request) override;
  void unregisterBroker(std::function<void(const wire::BaseResponse&)> cob,
                        const wire::UnregisterBrokerRequest& request) override;
  void getRouteInfoByTopic(std::function<void(const wire::TopicRouteResponse&)> cob,
                           const std::string& topic) override;
  void getClusterInfo(std::function<void(const wire::ClusterInfoResponse&)> cob) override;
  void getAllTopicList(std::function<void(const wire::NameListResponse&)> cob) override;

 private:
  NameServerApi& api_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mq::transport_thrift
