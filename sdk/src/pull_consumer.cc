// PullConsumer: explicit pulls and offset calls through a RouteCache.
#include "mq/client/pull_consumer.h"

#include <algorithm>
#include <mutex>

#include "client_instance.h"
#include "logging.h"
#include "name_server_list.h"
#include "pull_ops.h"
#include "route_cache.h"
#include "topic_route.h"
#include "guarded_call.h"

namespace mq::client {
namespace {
constexpr int kMaxBlockMs = 30000;

PullResult error_result(const Status& s) {
  PullResult r;
  r.code = s.code();
  r.remark = s.remark();
  return r;
}
}  // namespace

const char* pull_status_name(PullResult::PullStatus status) noexcept {
  switch (status) {
    case PullResult::PullStatus::kFound: return "FOUND";
    case PullResult::PullStatus::kNoNewMsg: return "NO_NEW_MSG";
    case PullResult::PullStatus::kNoMatchedMsg: return "NO_MATCHED_MSG";
    case PullResult::PullStatus::kOffsetIllegal: return "OFFSET_ILLEGAL";
    case PullResult::PullStatus::kError: break;
  }
  return "ERROR";
}

class PullConsumer::Impl {
 public:
  explicit Impl(std::string group) : group_(std::move(group)) {}

  std::string group_;
  std::string namesrv_addr_;
  std::mutex mu_;  // guards the lifecycle; calls read client_ / routes_ after checking running_
  bool running_ = false;
  bool stopped_ = false;
  std::unique_ptr<ClientInstance> client_;
  std::unique_ptr<RouteCache> routes_;

  Status start() {
    std::lock_guard lock(mu_);
    if (running_ || stopped_) return Status(code::kIllegalState, "pull consumer " + group_ + " was already started");
    if (group_.empty()) return Status(code::kIllegalArgument, "the consumer group is empty; pass a group name");
    std::vector<std::string> name_servers;
    if (Status s = resolve_name_servers(namesrv_addr_, &name_servers); !s) return s;
    wire::ChannelOptions options;
    options.recv_timeout_ms = kMaxBlockMs + 15000;  // a blocking pull is held up to kMaxBlockMs
    client_ = std::make_unique<ClientInstance>(std::move(name_servers), options);
    routes_ = std::make_unique<RouteCache>(*client_, 30000);
    running_ = true;
    return Status::ok();
  }

  Status shutdown() {
    std::lock_guard lock(mu_);
    if (running_) client_->close_all();
    running_ = false;
    stopped_ = true;
    return Status::ok();
  }

  Status check() {
    std::lock_guard lock(mu_);
    return running_ ? Status::ok()
                    : Status(code::kIllegalState, "pull consumer " + group_ + " is not running; call start() first");
  }

  // Resolves mq's broker address; an error when the consumer is not running or the route is unknown.
  Status address(const MessageQueue& mq, std::string* out) {
    if (Status s = check(); !s) return s;
    *out = routes_->master_address(mq.topic, mq.broker_name);
    if (out->empty()) return Status(code::kNoRoute, "no master address for " + mq.to_string());
    return Status::ok();
  }

  std::vector<MessageQueue> fetch_queues(const std::string& topic, Status* status) {
    Status s = check();
    wire::TopicRouteResponse route;
    if (s) s = routes_->route(topic, &route, true);
    if (status != nullptr) *status = s;
    return s ? readable_queues(topic, route) : std::vector<MessageQueue>{};
  }

  PullResult pull(const MessageQueue& mq, const std::string& expression, int64_t offset, int max_nums,
                  int64_t suspend_ms) {
    TagFilter filter;
    if (Status s = TagFilter::parse(expression, &filter); !s) return error_result(s);
    if (max_nums < 1) return error_result(Status(code::kIllegalArgument, "max_nums must be >= 1"));
    if (offset < 0) return error_result(Status(code::kIllegalArgument, "offset must be >= 0"));
    std::string addr;
    if (Status s = address(mq, &addr); !s) return error_result(s);
    return pull_queue(*client_, addr, group_, mq, filter, offset, max_nums, suspend_ms);
  }
};

PullConsumer::PullConsumer(std::string group) : impl_(std::make_unique<Impl>(std::move(group))) {}
PullConsumer::~PullConsumer() { (void)impl_->shutdown(); }
void PullConsumer::set_namesrv_addr(std::string addresses) { impl_->namesrv_addr_ = std::move(addresses); }
const std::string& PullConsumer::group() const { return impl_->group_; }
Status PullConsumer::start() {
  return guarded_status("pull consumer start", [&] { return impl_->start(); });
}
Status PullConsumer::shutdown() { return impl_->shutdown(); }

std::vector<MessageQueue> PullConsumer::fetch_subscribe_message_queues(const std::string& topic, Status* status) {
  return impl_->fetch_queues(topic, status);
}

PullResult PullConsumer::pull(const MessageQueue& mq, const std::string& expression, int64_t offset, int max_nums) {
  return impl_->pull(mq, expression, offset, max_nums, 0);
}

PullResult PullConsumer::pull_block_if_not_found(const MessageQueue& mq, const std::string& expression,
                                                  int64_t offset, int max_nums, int timeout_ms) {
  return impl_->pull(mq, expression, offset, max_nums, std::clamp(timeout_ms, 0, kMaxBlockMs));
}

Status PullConsumer::update_consume_offset(const MessageQueue& mq, int64_t offset) {
  std::string addr;
  if (Status s = impl_->address(mq, &addr); !s) return s;
  return commit_queue_offset(*impl_->client_, addr, impl_->group_, mq, offset);
}

int64_t PullConsumer::fetch_consume_offset(const MessageQueue& mq, Status* status) {
  std::string addr;
  if (Status s = impl_->address(mq, &addr); !s) {
    if (status != nullptr) *status = s;
    return -1;
  }
  return committed_offset(*impl_->client_, addr, impl_->group_, mq, status);
}

int64_t PullConsumer::min_offset(const MessageQueue& mq, Status* status) {
  std::string addr;
  if (Status s = impl_->address(mq, &addr); !s) {
    if (status != nullptr) *status = s;
    return -1;
  }
  return queue_offset(*impl_->client_, addr, mq, OffsetKind::kMin, status);
}

int64_t PullConsumer::max_offset(const MessageQueue& mq, Status* status) {
  std::string addr;
  if (Status s = impl_->address(mq, &addr); !s) {
    if (status != nullptr) *status = s;
    return -1;
  }
  return queue_offset(*impl_->client_, addr, mq, OffsetKind::kMax, status);
}

int64_t PullConsumer::search_offset(const MessageQueue& mq, int64_t timestamp_ms, Status* status) {
  std::string addr;
  if (Status s = impl_->address(mq, &addr); !s) {
    if (status != nullptr) *status = s;
    return -1;
  }
  return search_queue_offset(*impl_->client_, addr, mq, timestamp_ms, status);
}

}  // namespace mq::client
