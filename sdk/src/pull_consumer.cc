// PullConsumer: explicit pulls and offset calls through a RouteCache.
#include "mq/client/pull_consumer.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

#include "client_instance.h"
#include "logging.h"
#include "name_server_list.h"
#include "pull_ops.h"
#include "replica_selector.h"
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

  // Resolves the broker for mq's offset calls: its master, or a slave while the master is
  // down or gone (ReplicaSelector::offset_target). An error when the consumer is not running
  // or the route is unknown.
  Status address(const MessageQueue& mq, std::string* out) {
    if (Status s = check(); !s) return s;
    *out = replicas_.offset_target(routes_->group_addresses(mq.topic, mq.broker_name)).addr;
    if (out->empty()) return Status(code::kNoRoute, "no broker address for " + mq.to_string());
    return Status::ok();
  }

  // Runs an offset call fn(addr, &status) on the offset target and records its outcome (an
  // unreachable broker is avoided for a while).
  int64_t offset_call(const MessageQueue& mq, Status* status,
                      const std::function<int64_t(const std::string&, Status*)>& fn) {
    std::string addr;
    Status s = address(mq, &addr);
    int64_t value = s ? fn(addr, &s) : -1;
    replicas_.on_result(addr, s);
    if (status != nullptr) *status = s;
    return value;
  }

  // Commits to the master; while it is unreachable, to a slave, and the offset is kept and
  // re-sent to the master by the next commit or pull that reaches it.
  Status commit(const MessageQueue& mq, int64_t offset) {
    std::string addr;
    if (Status s = address(mq, &addr); !s) return s;
    Status s = commit_queue_offset(*client_, addr, group_, mq, offset);
    replicas_.on_result(addr, s);
    if (is_unreachable(s)) {  // the master just went away: once more, to the next choice (a slave)
      std::string next;
      if (address(mq, &next) && next != addr) {
        addr = next;
        s = commit_queue_offset(*client_, addr, group_, mq, offset);
        replicas_.on_result(addr, s);
      }
    }
    const bool on_master = s && routes_->master_address(mq.topic, mq.broker_name) == addr;
    {
      std::lock_guard lock(pending_mu_);
      if (on_master) {
        pending_master_.erase(mq);
      } else if (s) {
        pending_master_[mq] = offset;
      }
    }
    if (on_master) flush_pending(mq.topic, mq.broker_name, addr);
    return s;
  }

  // Re-sends offsets committed to a slave of broker_name while its master was away.
  void flush_pending(const std::string& topic, const std::string& broker_name, const std::string& master_addr) {
    std::map<MessageQueue, int64_t> due;
    {
      std::lock_guard lock(pending_mu_);
      for (auto it = pending_master_.begin(); it != pending_master_.end();) {
        if (it->first.topic == topic && it->first.broker_name == broker_name) {
          due.insert(*it);
          it = pending_master_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& [q, offset] : due) {
      Status s = commit_queue_offset(*client_, master_addr, group_, q, offset);
      if (!s) {
        std::lock_guard lock(pending_mu_);
        pending_master_.try_emplace(q, offset);
      }
    }
  }

  std::mutex pending_mu_;
  std::map<MessageQueue, int64_t> pending_master_;  // committed to a slave only

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
    if (Status s = check(); !s) return error_result(s);
    // The master, a suggested slave, or a slave while the master is unreachable; a broker that
    // refuses the connection is marked down and the pull goes once to the next choice.
    PullResult result;
    std::string tried;
    for (int attempt = 0; attempt < 2; ++attempt) {
      ReplicaTarget target = replicas_.choose(mq, routes_->group_addresses(mq.topic, mq.broker_name));
      if (target.empty()) return error_result(Status(code::kNoRoute, "no broker address for " + mq.to_string()));
      if (target.addr == tried) break;
      tried = target.addr;
      int64_t suggested = 0;
      result = pull_queue(*client_, target.addr, group_, mq, filter, offset, max_nums, suspend_ms, &suggested);
      replicas_.on_result(target.addr, Status(result.code, result.remark));
      if (is_unreachable(Status(result.code, result.remark))) continue;
      replicas_.on_suggestion(mq, suggested);
      if (target.is_master()) flush_pending(mq.topic, mq.broker_name, target.addr);
      // A slave behind the consumer's offset (it had not replicated that far when the master
      // went away) answers "offset moved" backwards: wait there instead of rewinding.
      if (!target.is_master() && result.status == PullResult::PullStatus::kOffsetIllegal &&
          result.next_begin_offset < offset) {
        result.status = PullResult::PullStatus::kNoNewMsg;
        result.code = code::kPullNotFound;
        result.next_begin_offset = offset;
      }
      break;
    }
    return result;
  }

  ReplicaSelector replicas_;
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
  return impl_->commit(mq, offset);
}

int64_t PullConsumer::fetch_consume_offset(const MessageQueue& mq, Status* status) {
  return impl_->offset_call(mq, status, [&](const std::string& addr, Status* s) {
    return committed_offset(*impl_->client_, addr, impl_->group_, mq, s);
  });
}

int64_t PullConsumer::min_offset(const MessageQueue& mq, Status* status) {
  return impl_->offset_call(mq, status, [&](const std::string& addr, Status* s) {
    return queue_offset(*impl_->client_, addr, mq, OffsetKind::kMin, s);
  });
}

int64_t PullConsumer::max_offset(const MessageQueue& mq, Status* status) {
  return impl_->offset_call(mq, status, [&](const std::string& addr, Status* s) {
    return queue_offset(*impl_->client_, addr, mq, OffsetKind::kMax, s);
  });
}

int64_t PullConsumer::search_offset(const MessageQueue& mq, int64_t timestamp_ms, Status* status) {
  return impl_->offset_call(mq, status, [&](const std::string& addr, Status* s) {
    return search_queue_offset(*impl_->client_, addr, mq, timestamp_ms, s);
  });
}

}  // namespace mq::client
