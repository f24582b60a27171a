// LitePullConsumer: poll() pulls assigned queues round-robin on the caller's thread (no long
// polling, short sleeps while nothing is found). A scheduler thread heartbeats, rebalances
// (subscribe mode) and auto-commits. Offset bookkeeping lives in LitePullOffsets.
#include "mq/client/lite_pull_consumer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "allocate_strategy.h"
#include "client_instance.h"
#include "client_session.h"
#include "lite_pull_offsets.h"
#include "local_address.h"
#include "logging.h"
#include "mq_constants.h"
#include "name_server_list.h"
#include "pull_ops.h"
#include "replica_selector.h"
#include "route_cache.h"
#include "scheduler.h"
#include "topic_route.h"
#include "guarded_call.h"

namespace mq::client {
namespace {
constexpr int64_t kAutoCommitMs = 5000;
constexpr int kIdleSleepMs = 50;
std::atomic<uint64_t> g_lite_counter{0};

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

class LitePullConsumer::Impl {
 public:
  explicit Impl(std::string group) : group_(std::move(group)) {
    client_id_ = make_client_id("l", g_lite_counter.fetch_add(1));
  }

  std::string group_;
  std::string client_id_;
  std::string namesrv_addr_;
  std::map<std::string, std::string> subscriptions_;
  bool auto_commit_ = true;
  int batch_size_ = 32;
  ConsumeFromWhere from_where_ = ConsumeFromWhere::kLastOffset;
  int rebalance_ms_ = 20000;

  std::mutex state_mu_;
  enum class State { kCreated, kRunning, kStopped } state_ = State::kCreated;
  std::unique_ptr<ClientInstance> client_;
  std::unique_ptr<RouteCache> routes_;
  std::unique_ptr<Scheduler> scheduler_;
  std::map<std::string, TagFilter> filters_;  // topic -> filter (subscribe mode); read-only after start
  LitePullOffsets offsets_;
  ReplicaSelector replicas_;
  std::mutex poll_mu_;  // one poll at a time
  size_t next_queue_ = 0;
  std::atomic<int64_t> last_commit_ms_{0};

  bool running() {
    std::lock_guard lock(state_mu_);
    return state_ == State::kRunning;
  }

  Status start() {
    {
      std::lock_guard lock(state_mu_);
      if (state_ != State::kCreated) return Status(code::kIllegalState, "lite pull consumer was already started");
      if (group_.empty()) return Status(code::kIllegalArgument, "the consumer group is empty; pass a group name");
      if (batch_size_ < 1) return Status(code::kIllegalArgument, "pull batch size must be >= 1");
      std::vector<std::string> name_servers;
      if (Status s = resolve_name_servers(namesrv_addr_, &name_servers); !s) return s;
      for (const auto& [topic, expression] : subscriptions_) {
        TagFilter filter;
        if (Status s = TagFilter::parse(expression, &filter); !s) return s;
        filters_[topic] = filter;
      }
      wire::ChannelOptions options;
      options.recv_timeout_ms = 10000;
      client_ = std::make_unique<ClientInstance>(std::move(name_servers), options);
      routes_ = std::make_unique<RouteCache>(*client_, 30000);
      scheduler_ = std::make_unique<Scheduler>("lite-pull");
      state_ = State::kRunning;
    }
    last_commit_ms_.store(steady_ms());
    if (!subscriptions_.empty()) {
      heartbeat();
      rebalance();
      scheduler_->schedule_every(rebalance_ms_, rebalance_ms_, [this] {
        heartbeat();
        rebalance();
      });
    }
    if (auto_commit_) scheduler_->schedule_every(kAutoCommitMs, kAutoCommitMs, [this] { (void)commit(); });
    scheduler_->start();
    return Status::ok();
  }

  Status shutdown() {
    if (!leave_running(state_mu_, &state_)) return Status::ok();
    scheduler_->stop();
    std::lock_guard poll_lock(poll_mu_);  // waits for a running poll
    if (auto_commit_) (void)commit();
    if (!subscriptions_.empty()) unregister_client(*client_, client_id_, broker_addresses(), "lite pull consumer " + group_);
    client_->close_all();
    return Status::ok();
  }

  // Every broker of the subscribed topics, masters and slaves (a slave serves reads while
  // its master is away, so it must know the group's members too).
  std::set<std::string> broker_addresses() {
    std::set<std::string> out;
    for (const auto& [topic, filter] : filters_) {
      wire::TopicRouteResponse route;
      if (!routes_->route(topic, &route)) continue;
      for (const auto& broker : route.brokers) {
        for (const auto& [id, addr] : broker.brokerAddrs) {
          if (!addr.empty()) out.insert(addr);
        }
      }
    }
    return out;
  }

  void heartbeat() {
    wire::HeartbeatRequest request;
    request.clientId = client_id_;
    wire::ConsumerData data;
    data.groupName = group_;
    data.consumeType = "PULL";
    data.messageModel = "CLUSTERING";
    for (const auto& [topic, filter] : filters_) {
      wire::SubscriptionData sub;
      sub.topic = topic;
      sub.expression = filter.expression();
      data.subscriptions.push_back(std::move(sub));
    }
    request.consumers.push_back(std::move(data));
    request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
    for (const auto& addr : broker_addresses()) {
      wire::BaseResponse r;
      Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.heartbeat(r, request); });
      if (!s) client_log().warn("lite pull consumer {}: heartbeat to {} failed: {}", group_, addr, s.to_string());
    }
  }

  void rebalance() {
    std::set<MessageQueue> mine;
    for (const auto& [topic, filter] : filters_) {
      wire::TopicRouteResponse route;
      if (!routes_->route(topic, &route)) return;  // keep the assignment until routes are known
      std::set<std::string> ids;
      for (const auto& broker : route.brokers) {  // each group's master, or a slave while it is away
        const std::string addr = replicas_.offset_target(group_addresses(route, broker.brokerName)).addr;
        if (addr.empty()) continue;
        wire::ConsumerListResponse r;
        Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getConsumerList(r, group_); });
        replicas_.on_result(addr, s);
        if (s && r.code == code::kSuccess) ids.insert(r.consumerIds.begin(), r.consumerIds.end());
      }
      if (ids.empty()) return;
      for (const auto& q : allocate_averagely(client_id_, readable_queues(topic, route),
                                              std::vector<std::string>(ids.begin(), ids.end()))) {
        mine.insert(q);
      }
    }
    set_assignment(mine);
  }

  void set_assignment(const std::set<MessageQueue>& queues) {
    auto pending = offsets_.to_commit();
    auto removed = offsets_.assign(queues);
    for (const auto& q : removed) {  // hand the queue over with its latest offset
      auto it = pending.find(q);
      if (it != pending.end() && running()) (void)commit_one(q, it->second);
    }
  }

  // Commits to the group's master; while it is unreachable to a slave (which keeps it for a
  // restart during the outage). Returns true only when the master stored it.
  bool commit_one(const MessageQueue& q, int64_t offset, Status* status = nullptr) {
    ReplicaTarget target = replicas_.offset_target(routes_->group_addresses(q.topic, q.broker_name));
    Status s = target.empty() ? Status(code::kNoRoute, "no broker address for " + q.to_string())
                              : commit_queue_offset(*client_, target.addr, group_, q, offset);
    replicas_.on_result(target.addr, s);
    if (status != nullptr) *status = s;
    return s && target.is_master();
  }

  // Offsets committed only to a slave stay pending (re-sent every commit until the master has them).
  Status commit() {
    Status first;
    for (const auto& [q, offset] : offsets_.to_commit()) {
      Status s;
      if (commit_one(q, offset, &s)) {
        offsets_.mark_committed(q, offset);
      } else if (first && !s) {
        first = s;
      }
    }
    last_commit_ms_.store(steady_ms());
    return first;
  }

  // The offset a queue starts at: the committed one, else consumeFromWhere.
  int64_t start_offset(const MessageQueue& q, const std::string& addr) {
    if (addr.empty()) return -1;
    Status s;
    int64_t committed = committed_offset(*client_, addr, group_, q, &s);
    replicas_.on_result(addr, s);
    if (!s) return -1;
    if (committed >= 0) return committed;
    switch (from_where_) {
      case ConsumeFromWhere::kFirstOffset: return queue_offset(*client_, addr, q, OffsetKind::kMin, nullptr);
      case ConsumeFromWhere::kTimestamp:
        return search_queue_offset(*client_, addr, q, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             std::chrono::system_clock::now().time_since_epoch())
                                                                 .count() - 30 * 60 * 1000,
                                   nullptr);
      case ConsumeFromWhere::kLastOffset: break;
    }
    return queue_offset(*client_, addr, q, OffsetKind::kMax, nullptr);
  }

  const TagFilter& filter_of(const std::string& topic) {
    static const TagFilter kAll;
    auto it = filters_.find(topic);
    return it == filters_.end() ? kAll : it->second;
  }

  std::vector<MessageExt> poll(int timeout_ms) {
    std::vector<MessageExt> out;
    std::lock_guard poll_lock(poll_mu_);
    if (!running()) return out;
    if (auto_commit_ && steady_ms() - last_commit_ms_.load() >= kAutoCommitMs) (void)commit();
    const int64_t deadline = steady_ms() + std::max(0, timeout_ms);
    do {
      std::vector<MessageQueue> queues = offsets_.queues();
      for (size_t i = 0; i < queues.size() && out.size() < static_cast<size_t>(batch_size_); ++i) {
        const MessageQueue& q = queues[(next_queue_ + i) % queues.size()];
        // The master, a suggested slave, or a slave while the master is unreachable.
        const ReplicaTarget target = replicas_.choose(q, routes_->group_addresses(q.topic, q.broker_name));
        if (target.empty()) continue;
        const std::string& addr = target.addr;
        int64_t offset = offsets_.next_pull(q);
        if (offset < 0) {
          offset = start_offset(q, replicas_.offset_target(routes_->group_addresses(q.topic, q.broker_name)).addr);
          if (offset < 0) continue;
          offsets_.set_next_pull(q, offset);
        }
        int64_t suggested = 0;
        PullResult r = pull_queue(*client_, addr, group_, q, filter_of(q.topic), offset,
                                  batch_size_ - static_cast<int>(out.size()), 0, &suggested);
        replicas_.on_result(addr, Status(r.code, r.remark));
        if (r.status == PullResult::PullStatus::kError) {
          client_log().debug("lite pull consumer {}: pull {} from {} failed: {}", group_, q.to_string(), addr,
                             r.remark);
          continue;
        }
        replicas_.on_suggestion(q, suggested);
        // A slave that had not replicated up to the offset answers "moved" backwards: wait.
        if (!target.is_master() && r.status == PullResult::PullStatus::kOffsetIllegal && r.next_begin_offset < offset)
          continue;
        if (r.next_begin_offset >= 0 && offsets_.contains(q)) offsets_.set_next_pull(q, r.next_begin_offset);
        if (!r.messages.empty()) {
          offsets_.on_returned(q, r.messages.back().queue_offset());
          for (auto& m : r.messages) out.push_back(std::move(m));
        } else if (r.status == PullResult::PullStatus::kNoMatchedMsg && r.next_begin_offset > offset) {
          offsets_.on_returned(q, r.next_begin_offset - 1);  // filtered-out messages count as consumed
        }
      }
      if (!queues.empty()) next_queue_ = (next_queue_ + 1) % queues.size();
      if (!out.empty() || !running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(kIdleSleepMs,
                                                                              std::max<int64_t>(0, deadline - steady_ms()))));
    } while (steady_ms() < deadline);
    return out;
  }
};

LitePullConsumer::LitePullConsumer(std::string group) : impl_(std::make_unique<Impl>(std::move(group))) {}
LitePullConsumer::~LitePullConsumer() {
  try {
    (void)impl_->shutdown();
  } catch (const std::exception& e) {
    client_log().error("lite pull consumer {}: shutdown in destructor failed: {}", impl_->group_, e.what());
  }
}
void LitePullConsumer::set_namesrv_addr(std::string addresses) { impl_->namesrv_addr_ = std::move(addresses); }
void LitePullConsumer::subscribe(const std::string& topic, const std::string& expression) {
  impl_->subscriptions_[topic] = expression;
}
void LitePullConsumer::assign(std::vector<MessageQueue> queues) {
  impl_->set_assignment(std::set<MessageQueue>(queues.begin(), queues.end()));
}
void LitePullConsumer::set_auto_commit(bool enable) { impl_->auto_commit_ = enable; }
void LitePullConsumer::set_pull_batch_size(int messages) { impl_->batch_size_ = messages; }
void LitePullConsumer::set_consume_from_where(ConsumeFromWhere where) { impl_->from_where_ = where; }
void LitePullConsumer::set_rebalance_interval_ms(int ms) { impl_->rebalance_ms_ = ms; }
const std::string& LitePullConsumer::group() const { return impl_->group_; }
Status LitePullConsumer::start() {
  return guarded_status("lite pull consumer start", [&] { return impl_->start(); });
}
Status LitePullConsumer::shutdown() {
  return guarded_status("lite pull consumer shutdown", [&] { return impl_->shutdown(); });
}
std::vector<MessageExt> LitePullConsumer::poll(int timeout_ms) {
  try {
    return impl_->poll(timeout_ms);
  } catch (const std::exception& e) {
    client_log().error("lite pull consumer {}: poll failed: {}", impl_->group_, e.what());
    return {};
  }
}
void LitePullConsumer::seek(const MessageQueue& mq, int64_t offset) { impl_->offsets_.seek(mq, offset); }
Status LitePullConsumer::commit_sync() {
  if (!impl_->running()) return Status(code::kIllegalState, "lite pull consumer is not running");
  try {
    return impl_->commit();
  } catch (const std::exception& e) {
    return Status(code::kClientError, e.what());
  }
}

}  // namespace mq::client
