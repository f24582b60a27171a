// NameServerHandler: wire <-> kernel for every NameServerService method.
#include "name_server_handler.h"

#include "completion.h"
#include "convert.h"

namespace mq::transport_thrift {

void NameServerHandler::registerBroker(std::function<void(const wire::BaseResponse&)> cob,
                                       const wire::RegisterBrokerRequest& request) {
  auto done = make_completion(std::move(cob), "registerBroker", logger_);
  guarded(done, [&] { done->complete(status_response<wire::BaseResponse>(api_.register_broker(to_kernel(request)))); });
}

void NameServerHandler::unregisterBroker(std::function<void(const wire::BaseResponse&)> cob,
                                         const wire::UnregisterBrokerRequest& request) {
  auto done = make_completion(std::move(cob), "unregisterBroker", logger_);
  guarded(done, [&] {
    done->complete(status_response<wire::BaseResponse>(
        api_.unregister_broker(request.clusterName, request.brokerName, request.brokerId, request.brokerAddr)));
  });
}

void NameServerHandler::getRouteInfoByTopic(std::function<void(const wire::TopicRouteResponse&)> cob,
                                            const std::string& topic) {
  auto done = make_completion(std::move(cob), "getRouteInfoByTopic", logger_);
  guarded(done, [&] {
    auto route = api_.route(topic);
    done->complete(route.is_ok() ? to_wire(*route) : status_response<wire::TopicRouteResponse>(route.status()));
  });
}

void NameServerHandler::getClusterInfo(std::function<void(const wire::ClusterInfoResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getClusterInfo", logger_);
  guarded(done, [&] { done->complete(to_wire(api_.cluster_info())); });
}

void NameServerHandler::getAllTopicList(std::function<void(const wire::NameListResponse&)> cob) {
  auto done = make_completion(std::move(cob), "getAllTopicList", logger_);
  guarded(done, [&] {
    auto out = status_response<wire::NameListResponse>(Status::ok());
    out.names = api_.topics();
    done->complete(out);
  });
}

}  // namespace mq::transport_thrift
