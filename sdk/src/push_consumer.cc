// PushConsumer: route refresh, heartbeats, rebalance, one long-polling puller thread per
// assigned queue, consumption on a thread pool, offset commits.
//
// Threads (all joined by shutdown()):
//  - scheduler: route refresh, heartbeat, rebalance, offset persistence, delayed redelivery;
//  - one puller per assigned queue, owning its own connection (PullChannel). A long-polling
//    pull blocks its connection for up to the suspend timeout, so per-queue connections keep
//    one quiet queue from delaying the others; an assignment has few queues (queues /
//    consumers). Dropping the queue or shutting down interrupts a held pull at once;
//  - consume pool (consume_thread_count): runs the listener;
//  - group watcher: one thread per broker holding waitConsumerGroupChange (prompt rebalance).
// Orderly: a queue is added only once its broker lock is obtained; locks are renewed every
// 20 s; a queue's messages go through its OrderlyBuffer, consumed by one task at a time
// (QueueState::orderly_pending) under QueueState::consume_mu, which drop_queue also takes
// before unlocking the queue on the broker.
// Retry (clustering): failed messages are sent back to their broker (consumerSendMsgBack) from
// the consume thread; a failed send-back falls back to local redelivery through the scheduler.
// A consume timeout sweep on the scheduler sends back messages whose listener call is stuck;
// QueueState::inflight decides, per message, whether the sweep or the consume thread owns it.
// The assignment table (queues_) is changed only by the scheduler thread (and by start()
// before the scheduler runs) and by shutdown() after the scheduler stopped.
#include "mq/client/push_consumer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "allocate_strategy.h"
#include "client_instance.h"
#include "client_session.h"
#include "consume_retry.h"
#include "group_watcher.h"
#include "guarded_call.h"
#include "local_address.h"
#include "local_offset_store.h"
#include "logging.h"
#include "mq_constants.h"
#include "name_server_list.h"
#include "offset_store.h"
#include "orderly.h"
#include "process_queue.h"
#include "pull_channel.h"
#include "replica_selector.h"
#include "scheduler.h"
#include "tag_filter.h"
#include "thread_pool.h"
#include "topic_route.h"
#include "wire_convert.h"

namespace mq::client {
namespace {

constexpr int64_t kPullBackoffMs = 1000;     // after a transport or broker error
constexpr int64_t kFlowControlDelayMs = 50;  // while a queue holds too much
constexpr int64_t kQuickEmptyPullMs = 100;   // an empty answer faster than this was not held
constexpr int64_t kLockRenewMs = 20000;      // RocketMQ rebalance lock interval
constexpr int64_t kNotLockedDelayMs = 1000;  // orderly queue not (yet) locked
constexpr int64_t kGroupWatchHoldMs = 30000;
constexpr int kRetryRouteProbes = 20;           // quick route lookups for a new %RETRY% topic
constexpr int64_t kSendBackLogEveryMs = 10000;  // failed send-back warnings, at most this often

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* consume_from_where_name(ConsumeFromWhere where) {
  switch (where) {
    case ConsumeFromWhere::kFirstOffset:
      return "CONSUME_FROM_FIRST_OFFSET";
    case ConsumeFromWhere::kTimestamp:
      return "CONSUME_FROM_TIMESTAMP";
    case ConsumeFromWhere::kLastOffset:
      break;
  }
  return "CONSUME_FROM_LAST_OFFSET";
}

std::atomic<uint64_t> g_instance_counter{0};

}  // namespace

// One assigned queue: its ProcessQueue and its puller thread.
struct QueueState {
  QueueState(MessageQueue q, TagFilter f) : queue(std::move(q)), filter(std::move(f)) {}
  const MessageQueue queue;
  const TagFilter filter;
  ProcessQueue pq;
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  // Guards the drop decision against offset updates, and wakes the puller's sleeps.
  std::mutex mu;
  std::condition_variable cv;
  Interrupter interrupter;  // aborts the puller's blocking pull when stopping
  std::thread thread;
  // Orderly mode only.
  OrderlyBuffer orderly;
  std::timed_mutex consume_mu;               // held while the listener runs for this queue
  std::atomic<bool> orderly_pending{false};  // a consume task is queued or running
  // Concurrent mode with a consume timeout: messages with the listener (see InFlightTable).
  InFlightTable inflight;

  // Sleeps up to ms; false when asked to stop.
  bool sleep_ms(int64_t ms) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop.load(); });
    return !stop.load();
  }
  void request_stop() {
    {
      std::lock_guard lock(mu);
      stop.store(true);
    }
    cv.notify_all();
    interrupter.fire();
  }
};

class PushConsumer::Impl {
 public:
  explicit Impl(std::string group) : group_(std::move(group)) {
    client_id_ =
        make_client_id(std::to_string(g_instance_counter.fetch_add(1)) + "-" + std::to_string(now_ms() % 1000000));
  }
  void set_instance_name(std::string name) {
    if (!name.empty()) client_id_ = local_ip_string() + "@" + name;
  }
  ~Impl() {
    try {
      (void)shutdown();
    } catch (const std::exception& e) {
      client_log().error("consumer {}: shutdown in destructor failed: {}", group_, e.what());
    }
  }

  // Configuration (read-only after start()).
  std::string group_;
  std::string namesrv_addr_;
  std::map<std::string, std::string> subscriptions_;     // topic -> expression
  std::map<std::string, std::string> expression_types_;  // topic -> "TAG" | "SQL92"
  MessageListenerWithContext listener_;
  OrderlyMessageListener orderly_listener_;
  AllocateStrategy strategy_ = AllocateStrategy::kAveragely;
  std::string offset_store_dir_;
  MessageModel model_ = MessageModel::kClustering;
  int consume_threads_ = 4;
  ConsumeFromWhere from_where_ = ConsumeFromWhere::kLastOffset;
  int64_t consume_timestamp_ms_ = -1;
  int pull_batch_size_ = 32;
  int consume_batch_max_ = 1;
  int pull_threshold_count_ = 1000;
  int pull_threshold_mib_ = 100;
  int suspend_timeout_ms_ = 15000;
  int route_refresh_ms_ = 30000;
  int heartbeat_ms_ = 30000;
  int rebalance_ms_ = 20000;
  int persist_ms_ = 5000;
  int reconsume_delay_ms_ = 1000;
  int max_reconsume_times_ = -1;  // see effective_max_reconsume_times()
  int64_t consume_timeout_ms_ = 15 * 60 * 1000;
  int suspend_ms_ = 1000;
  std::string client_id_;
  std::string retry_topic_;  // %RETRY%<group> in clustering mode, else ""

  bool orderly() const { return static_cast<bool>(orderly_listener_); }
  bool broadcasting() const { return model_ == MessageModel::kBroadcasting; }
  bool is_sql(const std::string& topic) const {
    auto it = expression_types_.find(topic);
    return it != expression_types_.end() && it->second == "SQL92";
  }

  Status start() {
    {
      std::lock_guard lock(state_mu_);
      if (state_ != State::kCreated) return Status(code::kIllegalState, "consumer " + group_ + " was already started");
      if (Status s = validate(); !s) return s;
      std::vector<std::string> name_servers;
      if (Status s = resolve_name_servers(namesrv_addr_, &name_servers); !s) return s;
      if (!broadcasting()) {
        // RocketMQ: clustering members consume their group's retry topic like any topic.
        retry_topic_ = retry_topic_of(group_);
        subscriptions_[retry_topic_] = "*";
        expression_types_[retry_topic_] = "TAG";
      }
      for (const auto& [topic, expression] : subscriptions_) {
        TagFilter filter;  // SQL92: the broker filters; the client keeps everything it receives
        if (!is_sql(topic)) {
          if (Status s = TagFilter::parse(expression, &filter); !s) return s;
        }
        filters_[topic] = filter;
      }
      if (broadcasting()) {
        if (offset_store_dir_.empty()) {
          const char* home = std::getenv("HOME");
          offset_store_dir_ = std::string(home != nullptr && *home != '\0' ? home : "/tmp") + "/.mq_offsets/" +
                              client_id_ + "/" + group_;
        }
        local_file_ = std::make_unique<LocalOffsetFile>(offset_store_dir_);
        if (Status s = local_file_->load(&local_table_); !s) return s;
      }
      if (consume_timestamp_ms_ < 0) consume_timestamp_ms_ = now_ms() - 30 * 60 * 1000;
      wire::ChannelOptions options;
      options.recv_timeout_ms = 10000;
      client_ = std::make_unique<ClientInstance>(std::move(name_servers), options);
      consume_pool_ = std::make_unique<ThreadPool>("consume", consume_threads_);
      scheduler_ = std::make_unique<Scheduler>("consumer-scheduler");
      if (!broadcasting()) {
        watcher_ = std::make_unique<GroupWatcher>(
            group_, client_id_, kGroupWatchHoldMs,
            [this](const std::string& addr, int64_t version, const std::vector<std::string>& reset_topics) {
              on_group_change(addr, version, reset_topics);
            });
      }
      state_ = State::kRunning;
    }

    refresh_routes();
    if (Status s = send_heartbeat(); s.code() == code::kSubscriptionParseFailed) {
      (void)shutdown();
      return s;
    }
    rebalance();
    if (!retry_topic_.empty() && !has_route(retry_topic_)) probe_retry_route(1);
    if (consume_timeout_ms_ > 0 && !orderly() && !broadcasting()) {
      const int64_t sweep_ms = std::clamp<int64_t>(consume_timeout_ms_ / 2, 100, 60000);
      scheduler_->schedule_every(sweep_ms, sweep_ms, [this] { sweep_consume_timeouts(); });
    }
    scheduler_->schedule_every(route_refresh_ms_, route_refresh_ms_, [this] { refresh_routes(); });
    scheduler_->schedule_every(heartbeat_ms_, heartbeat_ms_, [this] { (void)send_heartbeat(); });
    scheduler_->schedule_every(rebalance_ms_, rebalance_ms_, [this] { rebalance(); });
    scheduler_->schedule_every(persist_ms_, persist_ms_, [this] { persist_offsets(); });
    if (orderly() && !broadcasting()) {
      // Renewed at least once per rebalance interval, so a broker configured with a short
      // rebalanceLockMaxLiveTime (to recover a dead member's queues fast) does not expire
      // the locks of live members whose rebalance interval is set below it.
      const int64_t renew_ms = std::min<int64_t>(kLockRenewMs, rebalance_ms_);
      scheduler_->schedule_every(renew_ms, renew_ms, [this] { lock_all(); });
    }
    scheduler_->start();
    client_log().info("consumer {} started as {} ({} topics, {}{})", group_, client_id_, subscriptions_.size(),
                      broadcasting() ? "broadcasting" : "clustering", orderly() ? ", orderly" : "");
    return Status::ok();
  }

  // Watcher thread: hand the work to the scheduler thread, which owns the assignment.
  void on_group_change(const std::string& addr, int64_t version, const std::vector<std::string>& reset_topics) {
    if (stopping_.load()) return;
    client_log().info("consumer {}: group version {} on {}{}", group_, version, addr,
                      reset_topics.empty() ? "" : " (offsets reset)");
    scheduler_->schedule(0, [this, reset_topics] {
      for (const auto& topic : reset_topics) drop_topic_queues(topic);
      rebalance();
    });
  }

  // Offsets of topic were reset on the broker: forget the local state of its queues without
  // committing it; the next rebalance re-adds them from the (new) committed offsets.
  void drop_topic_queues(const std::string& topic) {
    std::vector<std::shared_ptr<QueueState>> dropped;
    {
      std::lock_guard lock(queues_mu_);
      for (auto it = queues_.begin(); it != queues_.end();) {
        if (it->first.topic == topic) {
          dropped.push_back(it->second);
          retired_.push_back(it->second);
          it = queues_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& qs : dropped) drop_queue(*qs, false);
    if (!dropped.empty()) {
      client_log().info("consumer {}: offsets of {} were reset; {} queues restart from the committed offsets", group_,
                        topic, dropped.size());
    }
  }

  Status shutdown() {
    if (!leave_running(state_mu_, &state_)) return Status::ok();
    stopping_.store(true);
    if (watcher_) watcher_->stop();
    scheduler_->stop();  // no more rebalances or redeliveries
    std::vector<std::shared_ptr<QueueState>> all;
    {
      std::lock_guard lock(queues_mu_);
      for (auto& [q, qs] : queues_) all.push_back(qs);
      for (auto& qs : retired_) all.push_back(qs);
    }
    for (auto& qs : all) qs->request_stop();
    // Queued batches are skipped (their offsets stay uncommitted); running ones finish.
    consume_pool_->shutdown(true);
    // Pullers must be gone before the final commit: a late pull would piggy-back an older offset.
    for (auto& qs : all) {
      if (qs->thread.joinable()) qs->thread.join();
    }
    persist_offsets();
    if (orderly() && !broadcasting()) unlock_all();
    unregister_client(*client_, client_id_, all_broker_addresses(), "consumer " + group_);
    {
      std::lock_guard lock(queues_mu_);
      queues_.clear();
      retired_.clear();
    }
    client_->close_all();
    client_log().info("consumer {} ({}) shut down", group_, client_id_);
    return Status::ok();
  }

 private:
  enum class State { kCreated, kRunning, kStopped };

  Status validate() const {
    if (group_.empty()) return Status(code::kIllegalArgument, "the consumer group is empty; pass a group name");
    if (!listener_ && !orderly_listener_) {
      return Status(code::kIllegalArgument, "no message listener; call register_message_listener() before start()");
    }
    if (subscriptions_.empty()) {
      return Status(code::kIllegalArgument, "no subscription; call subscribe(topic, \"*\") before start()");
    }
    if (consume_threads_ < 1 || pull_batch_size_ < 1 || consume_batch_max_ < 1) {
      return Status(code::kIllegalArgument,
                    "consume thread count, pull batch size and consume batch size must all be >= 1");
    }
    if (suspend_timeout_ms_ < 0) return Status(code::kIllegalArgument, "pull suspend timeout must be >= 0 ms");
    return Status::ok();
  }

  // --- routes -----------------------------------------------------------------------------

  void refresh_routes() {
    for (const auto& [topic, expression] : subscriptions_) {
      wire::TopicRouteResponse route;
      Status s = client_->fetch_route(topic, &route);
      if (!s) {
        // The broker creates %RETRY%<group> at our first heartbeat: no route before that is normal.
        if (topic == retry_topic_) {
          client_log().debug("consumer {}: route of retry topic {} unavailable: {}", group_, topic, s.to_string());
        } else {
          client_log().warn("consumer {}: route of topic {} unavailable: {}", group_, topic, s.to_string());
        }
        continue;
      }
      std::lock_guard lock(routes_mu_);
      routes_[topic] = std::move(route);
    }
    if (watcher_ && !stopping_.load()) watcher_->set_brokers(broker_addresses());
  }

  bool has_route(const std::string& topic) {
    std::lock_guard lock(routes_mu_);
    return routes_.count(topic) != 0;
  }

  // The broker creates %RETRY%<group> at the first heartbeat and registers it with the name
  // servers at once: look it up again shortly (attempt 1..kRetryRouteProbes) instead of
  // waiting for the periodic route refresh, so early send-backs are consumed promptly.
  void probe_retry_route(int attempt) {
    scheduler_->schedule(200 * attempt, [this, attempt] {
      if (stopping_.load()) return;
      wire::TopicRouteResponse route;
      if (client_->fetch_route(retry_topic_, &route)) {
        {
          std::lock_guard lock(routes_mu_);
          routes_[retry_topic_] = std::move(route);
        }
        if (watcher_) watcher_->set_brokers(broker_addresses());
        rebalance();
      } else if (attempt < kRetryRouteProbes) {
        probe_retry_route(attempt + 1);
      }
    });
  }

  bool route_of(const std::string& topic, wire::TopicRouteResponse* out) {
    std::lock_guard lock(routes_mu_);
    auto it = routes_.find(topic);
    if (it == routes_.end()) return false;
    *out = it->second;
    return true;
  }

  std::string master_address(const std::string& broker_name) {
    std::lock_guard lock(routes_mu_);
    for (const auto& [topic, route] : routes_) {
      auto masters = master_addresses(route);
      auto it = masters.find(broker_name);
      if (it != masters.end()) return it->second;
    }
    return {};
  }

  std::set<std::string> broker_addresses() {
    std::set<std::string> out;
    std::lock_guard lock(routes_mu_);
    for (const auto& [topic, route] : routes_) {
      for (const auto& [name, addr] : master_addresses(route)) out.insert(addr);
    }
    return out;
  }

  // Masters and slaves: heartbeats reach slaves too, as they serve reads while a master is away.
  std::set<std::string> all_broker_addresses() {
    std::set<std::string> out;
    std::lock_guard lock(routes_mu_);
    for (const auto& [topic, route] : routes_) {
      for (const auto& broker : route.brokers) {
        for (const auto& [id, addr] : broker.brokerAddrs) {
          if (!addr.empty()) out.insert(addr);
        }
      }
    }
    return out;
  }

  // The broker group broker_name (id -> address) from any subscribed topic's route.
  std::map<int64_t, std::string> group_addresses_of(const std::string& broker_name) {
    std::lock_guard lock(routes_mu_);
    for (const auto& [topic, route] : routes_) {
      auto addrs = group_addresses(route, broker_name);
      if (!addrs.empty()) return addrs;
    }
    return {};
  }

  // --- heartbeat --------------------------------------------------------------------------

  // Returns the first refusal (e.g. SUBSCRIPTION_PARSE_FAILED for a bad SQL92 filter).
  Status send_heartbeat() {
    Status refusal;
    wire::HeartbeatRequest request;
    request.clientId = client_id_;
    wire::ConsumerData data;
    data.groupName = group_;
    data.consumeType = "PUSH";
    data.messageModel = broadcasting() ? "BROADCASTING" : "CLUSTERING";
    data.consumeFromWhere = consume_from_where_name(from_where_);
    for (const auto& [topic, filter] : filters_) {
      wire::SubscriptionData sub;
      sub.topic = topic;
      sub.expressionType = is_sql(topic) ? "SQL92" : "TAG";
      sub.expression = is_sql(topic) ? subscriptions_.at(topic) : filter.expression();
      data.subscriptions.push_back(std::move(sub));
    }
    request.consumers.push_back(std::move(data));
    request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
    for (const auto& addr : all_broker_addresses()) {
      wire::BaseResponse response;
      Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.heartbeat(response, request); });
      replicas_.on_result(addr, s);
      if (!s) {
        client_log().warn("consumer {}: heartbeat to {} failed: {}", group_, addr, s.to_string());
      } else if (response.code != code::kSuccess) {
        Status refused(response.code, "heartbeat to " + addr + " refused: " + response.remark);
        if (refusal) refusal = refused;
        if (response.code == code::kSubscriptionParseFailed) {
          client_log().error("consumer {}: a subscription expression was rejected: {}", group_, refused.to_string());
        } else {
          client_log().warn("consumer {}: {}", group_, refused.to_string());
        }
      }
    }
    return refusal;
  }

  // --- rebalance --------------------------------------------------------------------------

  void rebalance() {
    for (const auto& [topic, filter] : filters_) {
      if (stopping_.load()) return;
      wire::TopicRouteResponse route;
      if (!route_of(topic, &route)) continue;  // keep the current assignment until a route is known
      std::vector<MessageQueue> all = readable_queues(topic, route);
      if (broadcasting()) {
        update_assignment(topic, filter, std::set<MessageQueue>(all.begin(), all.end()), 1);
        continue;
      }
      std::set<std::string> ids;
      bool answered = false;
      for (const auto& broker : route.brokers) {  // each group's master, or a slave while it is away
        const std::string addr = replicas_.offset_target(group_addresses(route, broker.brokerName)).addr;
        if (addr.empty()) continue;
        wire::ConsumerListResponse response;
        Status s =
            client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getConsumerList(response, group_); });
        replicas_.on_result(addr, s);
        if (!s || response.code != code::kSuccess) {
          client_log().warn("consumer {}: getConsumerList from {} failed: {}", group_, addr,
                            s ? Status(response.code, response.remark).to_string() : s.to_string());
          continue;
        }
        answered = true;
        ids.insert(response.consumerIds.begin(), response.consumerIds.end());
      }
      if (!answered) continue;
      if (ids.count(client_id_) == 0) {
        client_log().warn("consumer {}: this client ({}) is not yet among the group's {} consumers; no queue taken",
                          group_, client_id_, ids.size());
      }
      std::vector<std::string> id_list(ids.begin(), ids.end());
      auto mine = strategy_ == AllocateStrategy::kAveragelyByCircle
                      ? allocate_averagely_by_circle(client_id_, all, id_list)
                      : allocate_averagely(client_id_, all, id_list);
      update_assignment(topic, filter, std::set<MessageQueue>(mine.begin(), mine.end()), ids.size());
    }
    join_finished_retired();
  }

  void update_assignment(const std::string& topic, const TagFilter& filter, const std::set<MessageQueue>& mine,
                         size_t consumer_count) {
    std::vector<std::shared_ptr<QueueState>> dropped;
    std::vector<MessageQueue> added;
    std::set<MessageQueue> lockable;  // orderly: new queues whose broker lock was obtained
    if (orderly() && !broadcasting()) {
      std::vector<MessageQueue> wanted;
      {
        std::lock_guard lock(queues_mu_);
        for (const auto& q : mine) {
          if (queues_.count(q) == 0) wanted.push_back(q);
        }
      }
      for (const auto& q : lock_queues(wanted)) lockable.insert(q);
    }
    {
      std::lock_guard lock(queues_mu_);
      for (auto it = queues_.begin(); it != queues_.end();) {
        if (it->first.topic == topic && mine.count(it->first) == 0) {
          dropped.push_back(it->second);
          retired_.push_back(it->second);
          it = queues_.erase(it);
        } else {
          ++it;
        }
      }
      for (const auto& q : mine) {
        if (queues_.count(q) != 0) continue;
        if (orderly() && !broadcasting() && lockable.count(q) == 0) continue;  // retried next rebalance
        auto qs = std::make_shared<QueueState>(q, filter);
        qs->thread = std::thread([this, qs] { pull_loop(qs); });
        queues_.emplace(q, qs);
        added.push_back(q);
      }
    }
    for (auto& qs : dropped) drop_queue(*qs, true);
    if (!dropped.empty() || !added.empty()) {
      std::string list;
      for (const auto& q : mine) list += (list.empty() ? "" : " ") + q.broker_name + "/" + std::to_string(q.queue_id);
      client_log().info("consumer {}: rebalance of {} among {} consumers: {} queues ({} new, {} dropped): [{}]", group_,
                        topic, consumer_count, mine.size(), added.size(), dropped.size(), list);
    }
  }

  // Stops the puller, forbids later offset updates for the queue and (when commit) commits its
  // offset now. Orderly: waits (up to 1 s) for the running listener call, then unlocks the queue
  // on the broker; if the listener is still busy the broker lock is left to expire.
  void drop_queue(QueueState& qs, bool commit) {
    {
      std::lock_guard lock(qs.mu);
      qs.pq.set_dropped();
      qs.stop.store(true);
    }
    qs.cv.notify_all();
    qs.interrupter.fire();
    bool quiet = true;
    std::unique_lock<std::timed_mutex> consume_lock(qs.consume_mu, std::defer_lock);
    if (orderly()) quiet = consume_lock.try_lock_for(std::chrono::seconds(1));
    int64_t offset = offsets_.read(qs.queue);
    if (commit && offset >= 0) commit_offset(qs.queue, offset);
    offsets_.remove(qs.queue);
    if (orderly() && !broadcasting()) {
      if (quiet) {
        unlock_queues({qs.queue});
      } else {
        client_log().warn("consumer {}: {} dropped while its listener is still running; its broker lock expires later",
                          group_, qs.queue.to_string());
      }
      locks_.forget(qs.queue);
    }
  }

  // --- orderly locks ----------------------------------------------------------------------

  // lockBatchMQ per broker; returns the queues now locked by this client (and records them).
  std::vector<MessageQueue> lock_queues(const std::vector<MessageQueue>& queues) {
    std::map<std::string, std::vector<MessageQueue>> by_broker;
    for (const auto& q : queues) by_broker[q.broker_name].push_back(q);
    std::vector<MessageQueue> locked_all;
    for (const auto& [broker, list] : by_broker) {
      std::string addr = master_address(broker);
      if (addr.empty()) continue;
      wire::LockBatchRequest request = lock_request(list);
      wire::LockBatchResponse response;
      Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.lockBatchMQ(response, request); });
      if (!s || response.code != code::kSuccess) {
        client_log().warn("consumer {}: lockBatchMQ on {} failed: {}", group_, addr,
                          s ? Status(response.code, response.remark).to_string() : s.to_string());
        if (s) locks_.on_lock_result(list, {}, steady_ms());  // refused: none held
        continue;
      }
      std::vector<MessageQueue> locked;
      for (const auto& ref : response.lockedQueues) locked.push_back(MessageQueue{ref.topic, broker, ref.queueId});
      locks_.on_lock_result(list, locked, steady_ms());
      locked_all.insert(locked_all.end(), locked.begin(), locked.end());
    }
    return locked_all;
  }

  // The LOCK_BATCH_MQ / UNLOCK_BATCH_MQ request of this client for `queues` (one broker's).
  wire::LockBatchRequest lock_request(const std::vector<MessageQueue>& queues) const {
    wire::LockBatchRequest request;
    request.consumerGroup = group_;
    request.clientId = client_id_;
    for (const auto& q : queues) {
      wire::QueueRef ref;
      ref.topic = q.topic;
      ref.queueId = q.queue_id;
      request.queues.push_back(std::move(ref));
    }
    return request;
  }

  void unlock_queues(const std::vector<MessageQueue>& queues) {
    std::map<std::string, std::vector<MessageQueue>> by_broker;
    for (const auto& q : queues) by_broker[q.broker_name].push_back(q);
    for (const auto& [broker, list] : by_broker) {
      std::string addr = master_address(broker);
      if (addr.empty()) continue;
      wire::LockBatchRequest request = lock_request(list);
      wire::BaseResponse response;
      Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.unlockBatchMQ(response, request); });
      if (!s || response.code != code::kSuccess) {
        client_log().warn("consumer {}: unlockBatchMQ on {} failed: {}", group_, addr,
                          s ? Status(response.code, response.remark).to_string() : s.to_string());
      }
      for (const auto& q : list) locks_.forget(q);
    }
  }

  // Scheduler: renews the locks of every assigned queue and wakes queues that became locked.
  void lock_all() {
    std::vector<std::shared_ptr<QueueState>> all;
    std::vector<MessageQueue> queues;
    {
      std::lock_guard lock(queues_mu_);
      for (auto& [q, qs] : queues_) {
        all.push_back(qs);
        queues.push_back(q);
      }
    }
    lock_queues(queues);
    for (auto& qs : all) {
      if (qs->orderly.size() > 0) submit_orderly(qs);
    }
  }

  void unlock_all() {
    auto held = locks_.held();
    if (!held.empty()) unlock_queues(held);
  }

  void join_finished_retired() {
    std::vector<std::shared_ptr<QueueState>> done;
    {
      std::lock_guard lock(queues_mu_);
      for (auto it = retired_.begin(); it != retired_.end();) {
        if ((*it)->finished.load()) {
          done.push_back(*it);
          it = retired_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& qs : done) {
      if (qs->thread.joinable()) qs->thread.join();
    }
  }

  // --- offsets ----------------------------------------------------------------------------

  // Records a commit offset unless the queue was dropped (a dropped queue's offset belongs to
  // its new owner).
  void update_offset(QueueState& qs, int64_t offset, bool increase_only) {
    std::lock_guard lock(qs.mu);
    if (!qs.pq.dropped()) offsets_.update(qs.queue, offset, increase_only);
  }

  bool commit_offset(const MessageQueue& queue, int64_t offset) {
    if (broadcasting()) {
      std::lock_guard lock(local_mu_);
      local_table_[queue] = offset;
      return true;
    }
    // The master; while it is unreachable a slave, and the offset stays pending (false) until
    // the master has it (ReplicaSelector).
    const ReplicaTarget target = replicas_.offset_target(group_addresses_of(queue.broker_name));
    const std::string& addr = target.addr;
    if (addr.empty()) return false;
    wire::ConsumerOffsetRequest request;
    request.consumerGroup = group_;
    request.topic = queue.topic;
    request.queueId = queue.queue_id;
    request.offset = offset;
    wire::BaseResponse response;
    Status s =
        client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.updateConsumerOffset(response, request); });
    replicas_.on_result(addr, s);
    if (!s || response.code != code::kSuccess) {
      client_log().warn("consumer {}: commit of offset {} for {} failed: {}", group_, offset, queue.to_string(),
                        s ? Status(response.code, response.remark).to_string() : s.to_string());
      return false;
    }
    return target.is_master();
  }

  void persist_offsets() {
    for (const auto& [queue, offset] : offsets_.to_persist()) {
      if (commit_offset(queue, offset)) offsets_.mark_persisted(queue, offset);
    }
    if (broadcasting()) {
      std::lock_guard lock(local_mu_);
      if (Status s = local_file_->save(local_table_); !s) {
        client_log().warn("consumer {}: {}", group_, s.to_string());
      }
    }
  }

  // Where a newly assigned queue starts: the group's committed offset, else consumeFromWhere.
  Status start_offset(const MessageQueue& queue, int64_t* out) {
    // The master, or a slave while it is away (it has the offsets synced from the master and
    // those committed to it meanwhile).
    const std::string addr = replicas_.offset_target(group_addresses_of(queue.broker_name)).addr;
    if (addr.empty()) return Status(code::kNoRoute, "no broker address for broker " + queue.broker_name);
    Status s;
    if (broadcasting()) {
      std::lock_guard lock(local_mu_);
      auto it = local_table_.find(queue);
      if (it != local_table_.end() && it->second >= 0) {
        *out = it->second;
        return Status::ok();
      }
    } else {
      wire::ConsumerOffsetRequest request;
      request.consumerGroup = group_;
      request.topic = queue.topic;
      request.queueId = queue.queue_id;
      wire::OffsetResponse committed;
      s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.queryConsumerOffset(committed, request); });
      if (!s) return s;
      if (committed.code == code::kSuccess && committed.offset >= 0) {
        *out = committed.offset;
        return Status::ok();
      }
      if (committed.code != code::kSuccess && committed.code != code::kQueryNotFound) {
        return Status(committed.code, "queryConsumerOffset: " + committed.remark);
      }
    }
    wire::QueueRef ref;
    ref.topic = queue.topic;
    ref.queueId = queue.queue_id;
    wire::OffsetResponse r;
    // RocketMQ: a retry topic without a committed offset is read from its start (its messages
    // were sent back for this group), except under CONSUME_FROM_TIMESTAMP.
    const bool retry_from_start = is_retry_topic(queue.topic) && from_where_ != ConsumeFromWhere::kTimestamp;
    switch (retry_from_start ? ConsumeFromWhere::kFirstOffset : from_where_) {
      case ConsumeFromWhere::kLastOffset:
        s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getMaxOffset(r, ref); });
        break;
      case ConsumeFromWhere::kFirstOffset:
        s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.getMinOffset(r, ref); });
        break;
      case ConsumeFromWhere::kTimestamp: {
        wire::SearchOffsetRequest search;
        search.topic = queue.topic;
        search.queueId = queue.queue_id;
        search.timestamp = consume_timestamp_ms_;
        s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.searchOffsetByTimestamp(r, search); });
        break;
      }
    }
    if (!s) return s;
    if (r.code != code::kSuccess) return Status(r.code, r.remark);
    *out = std::max<int64_t>(0, r.offset);
    return Status::ok();
  }

  // --- pulling ----------------------------------------------------------------------------

  void pull_loop(std::shared_ptr<QueueState> qs) {
    const MessageQueue& queue = qs->queue;
    const int64_t max_bytes = static_cast<int64_t>(pull_threshold_mib_) << 20;
    std::unique_ptr<PullChannel> channel;
    int64_t offset = -1;
    int64_t last_flow_log_ms = 0;
    int64_t last_error_log_ms = 0;
    auto log_error = [&](const std::string& what) {
      // At most one warning per 10 s per queue: a dead broker must not flood the log.
      if (now_ms() - last_error_log_ms >= 10000) {
        last_error_log_ms = now_ms();
        client_log().warn("consumer {}: pull {}: {}", group_, queue.to_string(), what);
      }
    };
    while (!qs->stop.load()) {
      if (offset < 0) {
        Status s = start_offset(queue, &offset);
        if (!s) {
          offset = -1;
          log_error("cannot compute the start offset: " + s.to_string());
          qs->sleep_ms(kPullBackoffMs);
          continue;
        }
        qs->pq.reset_frontier(offset);
        update_offset(*qs, offset, false);
        client_log().info("consumer {}: {} starts at offset {}", group_, queue.to_string(), offset);
      }
      if (static_cast<int>(qs->pq.message_count()) > pull_threshold_count_ || qs->pq.message_bytes() > max_bytes) {
        if (now_ms() - last_flow_log_ms >= 30000) {
          last_flow_log_ms = now_ms();
          client_log().warn("consumer {}: flow control on {}: {} messages / {} bytes held; pulling paused", group_,
                            queue.to_string(), qs->pq.message_count(), qs->pq.message_bytes());
        }
        qs->sleep_ms(kFlowControlDelayMs);
        continue;
      }
      if (orderly() && !broadcasting() && !locks_.is_locked(queue, steady_ms())) {
        qs->sleep_ms(kNotLockedDelayMs);  // lock_all() renews it; consuming waits meanwhile
        continue;
      }
      // The master, a suggested slave, or a slave while the master is unreachable.
      const ReplicaTarget target = replicas_.choose(queue, group_addresses_of(queue.broker_name));
      const std::string& addr = target.addr;
      if (addr.empty()) {
        log_error("no broker address for broker " + queue.broker_name);
        qs->sleep_ms(kPullBackoffMs);
        continue;
      }
      wire::PullRequest request;
      request.consumerGroup = group_;
      request.topic = queue.topic;
      request.queueId = queue.queue_id;
      request.queueOffset = offset;
      request.maxMsgs = pull_batch_size_;
      request.suspendTimeoutMs = suspend_timeout_ms_;
      request.commitOffset = broadcasting() ? -1 : offsets_.read(queue);
      if (is_sql(queue.topic)) {
        request.subscription = subscriptions_.at(queue.topic);
        request.__set_expressionType("SQL92");
      } else {
        request.subscription = qs->filter.expression();
      }
      request.__set_clientVersion(wire::g_mq_constants.PROTOCOL_VERSION);
      request.__set_wantRecords(true);
      wire::PullResponse response;
      const int64_t started = now_ms();
      std::string pull_error;
      int pull_error_code = code::kRpcFailed;
      // A kept channel that fails with a transport error (the broker restarted, or dropped the
      // connection) is replaced and the pull, which is idempotent, is sent once more at once.
      for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = channel && channel->address() == addr;
        try {
          response = wire::PullResponse();
          if (!reused) {
            channel.reset();
            channel = PullChannel::connect(addr, 3000, suspend_timeout_ms_ + 15000, qs->interrupter);
          }
          channel->broker().pull(response, request);
          pull_error.clear();
          break;
        } catch (const std::exception& e) {
          channel.reset();
          const Status failed = status_from_exception("broker " + addr, e);
          pull_error = failed.to_string();
          pull_error_code = failed.code();
          if (qs->stop.load() || !reused || !is_stale_connection_error(e)) break;
        }
      }
      if (qs->stop.load()) break;  // interrupted on purpose
      if (!pull_error.empty()) {
        log_error(pull_error);
        replicas_.on_result(addr, Status(pull_error_code, pull_error));
        // Refused or reset: another broker of the group (a slave) may serve the queue at once.
        if (replicas_.choose(queue, group_addresses_of(queue.broker_name)).addr == addr) qs->sleep_ms(kPullBackoffMs);
        continue;
      }
      replicas_.on_result(addr, Status::ok());
      replicas_.on_suggestion(queue, response.__isset.suggestWhichBrokerId ? response.suggestWhichBrokerId : 0);
      // A slave that had not replicated up to the offset (the master went away first) answers
      // "offset moved" backwards: wait for it (or the master) instead of rewinding.
      if (!target.is_master() && response.code == code::kPullOffsetMoved && response.nextBeginOffset < offset) {
        qs->sleep_ms(kQuickEmptyPullMs);
        continue;
      }
      switch (response.code) {
        case code::kSuccess: {
          std::vector<MessageExt> pulled;
          if (std::string bad = messages_from_pull(response, &pulled); !bad.empty()) {
            // Bad data, not a bad connection: retry the same offset, never skip it.
            log_error("consumer " + group_ + ": broker " + addr + ": " + bad);
            qs->sleep_ms(kPullBackoffMs);
            break;
          }
          int64_t next = response.nextBeginOffset;
          if (next <= offset && !pulled.empty()) next = pulled.back().queue_offset() + 1;
          std::vector<MessageExt> messages;
          messages.reserve(pulled.size());
          for (auto& m : pulled) {
            if (!qs->filter.matches(m.tags())) continue;
            messages.push_back(std::move(m));
            if (!retry_topic_.empty()) restore_retry_topic(messages.back(), retry_topic_);
          }
          offset = next;
          qs->pq.put(messages, offset);
          if (messages.empty()) {
            update_offset(*qs, qs->pq.commit_offset(), true);
          } else {
            dispatch(qs, std::move(messages));
          }
          break;
        }
        case code::kPullNotFound:
          if (response.nextBeginOffset > offset) offset = response.nextBeginOffset;
          qs->pq.put({}, offset);
          update_offset(*qs, qs->pq.commit_offset(), true);
          if (now_ms() - started < kQuickEmptyPullMs) qs->sleep_ms(kQuickEmptyPullMs);
          break;
        case code::kPullRetryImmediately:
          if (response.nextBeginOffset > offset) offset = response.nextBeginOffset;
          break;
        case code::kPullOffsetMoved:
          client_log().warn("consumer {}: {} offset {} is out of range [{}, {}]; moving to {}", group_,
                            queue.to_string(), offset, response.minOffset, response.maxOffset,
                            response.nextBeginOffset);
          offset = std::max<int64_t>(0, response.nextBeginOffset);
          qs->pq.reset_frontier(offset);
          update_offset(*qs, qs->pq.commit_offset(), false);
          break;
        case code::kSubscriptionParseFailed:
          client_log().error(
              "consumer {}: broker {} cannot parse the subscription of {} ('{}'): {}; fix the "
              "expression (retrying in 10 s)",
              group_, addr, queue.topic, request.subscription, response.remark);
          qs->sleep_ms(10 * kPullBackoffMs);
          break;
        default:
          log_error("broker " + addr + " answered " + Status(response.code, response.remark).to_string());
          qs->sleep_ms(kPullBackoffMs);
          break;
      }
    }
    qs->finished.store(true);
  }

  // --- consumption ------------------------------------------------------------------------

  void dispatch(const std::shared_ptr<QueueState>& qs, std::vector<MessageExt> messages) {
    if (orderly()) {
      qs->orderly.put(messages);
      submit_orderly(qs);
      return;
    }
    const size_t batch = static_cast<size_t>(consume_batch_max_);
    for (size_t i = 0; i < messages.size(); i += batch) {
      std::vector<MessageExt> part;
      for (size_t j = i; j < messages.size() && j < i + batch; ++j) part.push_back(std::move(messages[j]));
      submit_consume(qs, std::move(part));
    }
  }

  void submit_consume(const std::shared_ptr<QueueState>& qs, std::vector<MessageExt> batch) {
    auto shared = std::make_shared<std::vector<MessageExt>>(std::move(batch));
    if (!consume_pool_->try_submit([this, qs, shared] { consume(qs, shared); })) {
      // Only during shutdown: the messages stay in the ProcessQueue, so their offsets are not committed.
      client_log().debug("consumer {}: consume pool closed; {} messages of {} left unconsumed", group_, shared->size(),
                         qs->queue.to_string());
    }
  }

  // At most one orderly task per queue is queued or running (orderly_pending).
  void submit_orderly(const std::shared_ptr<QueueState>& qs) {
    if (qs->orderly_pending.exchange(true)) return;
    if (!consume_pool_->try_submit([this, qs] { consume_orderly(qs); })) qs->orderly_pending.store(false);
  }

  // One batch of one queue, then hands the queue back to the pool (fairness between queues).
  void consume_orderly(const std::shared_ptr<QueueState>& qs) {
    std::unique_lock<std::timed_mutex> consume_lock(qs->consume_mu);
    if (qs->pq.dropped() || stopping_.load()) {
      qs->orderly_pending.store(false);
      return;
    }
    if (!broadcasting() && !locks_.is_locked(qs->queue, steady_ms())) {
      // Not locked (yet / any more): never consume; lock_all() resubmits once locked.
      qs->orderly_pending.store(false);
      return;
    }
    std::vector<MessageExt> batch = qs->orderly.take(static_cast<size_t>(consume_batch_max_));
    if (batch.empty()) {
      qs->orderly_pending.store(false);
      // A put() between take() and the store above found pending set and returned: re-check.
      if (qs->orderly.size() > 0) {
        consume_lock.unlock();
        submit_orderly(qs);
      }
      return;
    }
    ConsumeOrderlyStatus status = ConsumeOrderlyStatus::kSuspendCurrentQueueAMoment;
    try {
      status = orderly_listener_(batch);
    } catch (const std::exception& e) {
      client_log().error("consumer {}: orderly listener threw on {}: {}; retrying the batch in {} ms", group_,
                         qs->queue.to_string(), e.what(), suspend_ms_);
    } catch (...) {
      client_log().error("consumer {}: orderly listener threw on {}; retrying the batch", group_,
                         qs->queue.to_string());
    }
    if (status == ConsumeOrderlyStatus::kSuccess) {
      int64_t commit = qs->pq.remove(qs->orderly.commit());
      update_offset(*qs, commit, true);
      consume_lock.unlock();
      if (!consume_pool_->try_submit([this, qs] { consume_orderly(qs); })) qs->orderly_pending.store(false);
      return;
    }
    // Retry in place; a message that already failed max_reconsume_times times goes to the DLQ
    // (clustering) or is skipped (broadcasting: no DLQ), so the queue can move on.
    const int32_t max = effective_max_reconsume_times(max_reconsume_times_, true);
    std::vector<int64_t> gone;
    for (const auto& m : batch) {
      if (m.reconsume_times() < max) continue;
      if (broadcasting()) {
        client_log().warn("consumer {}: {} offset {} failed {} times; broadcasting has no DLQ, skipping it", group_,
                          qs->queue.to_string(), m.queue_offset(), m.reconsume_times() + 1);
        gone.push_back(m.queue_offset());
      } else if (send_back(qs->queue, m, kDelayLevelDlq)) {
        client_log().warn("consumer {}: {} offset {} (msgId {}) failed {} times; moved to {}", group_,
                          qs->queue.to_string(), m.queue_offset(), m.msg_id(), m.reconsume_times() + 1,
                          dlq_topic_of(group_));
        gone.push_back(m.queue_offset());
      }
    }
    if (gone.size() == batch.size()) {  // nothing left to retry: the queue moves on
      int64_t commit = qs->pq.remove(qs->orderly.commit());
      update_offset(*qs, commit, true);
      consume_lock.unlock();
      if (!consume_pool_->try_submit([this, qs] { consume_orderly(qs); })) qs->orderly_pending.store(false);
      return;
    }
    qs->orderly.retry_later(gone);
    if (!gone.empty()) update_offset(*qs, qs->pq.remove(gone), true);
    consume_lock.unlock();
    // orderly_pending stays set: the queue waits for this retry, in order.
    scheduler_->schedule(suspend_ms_, [this, qs] {
      if (!consume_pool_->try_submit([this, qs] { consume_orderly(qs); })) qs->orderly_pending.store(false);
    });
  }

  // Concurrent listener. Failed messages: clustering sends them back (consumed once the broker
  // accepted them) and redelivers locally those it could not send back; broadcasting skips them.
  void consume(const std::shared_ptr<QueueState>& qs, const std::shared_ptr<std::vector<MessageExt>>& batch) {
    if (qs->pq.dropped() || stopping_.load()) return;  // left for the next owner / the next start
    const bool track = consume_timeout_ms_ > 0 && !broadcasting();
    if (track) qs->inflight.begin(batch, steady_ms());
    ConsumeConcurrentlyContext context;
    context.queue = qs->queue;
    ConsumeStatus status = ConsumeStatus::kReconsumeLater;
    try {
      status = listener_(*batch, context);
    } catch (const std::exception& e) {
      client_log().error("consumer {}: listener threw on {} ({} messages): {}; treated as RECONSUME_LATER", group_,
                         qs->queue.to_string(), batch->size(), e.what());
    } catch (...) {
      client_log().error("consumer {}: listener threw on {}; treated as RECONSUME_LATER", group_,
                         qs->queue.to_string());
    }
    std::vector<bool> failed(batch->size(), false);
    for (size_t i : failed_indices(status, context.ack_index, batch->size())) failed[i] = true;
    std::vector<int64_t> done;
    std::vector<MessageExt> redeliver;
    size_t skipped = 0;
    for (size_t i = 0; i < batch->size(); ++i) {
      MessageExt& m = (*batch)[i];
      if (track && !qs->inflight.claim(m.queue_offset())) continue;  // the timeout sweep took it
      if (!failed[i]) {
        done.push_back(m.queue_offset());
      } else if (broadcasting()) {
        ++skipped;
        done.push_back(m.queue_offset());
      } else if (send_back(qs->queue, m, context.delay_level_when_next_consume)) {
        done.push_back(m.queue_offset());
      } else {
        redeliver.push_back(std::move(m));
      }
    }
    if (skipped > 0) {
      client_log().warn("consumer {}: {} messages of {} failed; broadcasting consumers do not retry, skipped", group_,
                        skipped, qs->queue.to_string());
    }
    if (!done.empty()) update_offset(*qs, qs->pq.remove(done), true);
    if (!redeliver.empty()) redeliver_later(qs, std::move(redeliver));
  }

  // Local redelivery (the send-back failed): the messages stay in the ProcessQueue, so the
  // committed offset never passes them.
  void redeliver_later(const std::shared_ptr<QueueState>& qs, std::vector<MessageExt> messages) {
    for (auto& m : messages) m.set_reconsume_times(m.reconsume_times() + 1);
    auto shared = std::make_shared<std::vector<MessageExt>>(std::move(messages));
    scheduler_->schedule(reconsume_delay_ms_, [this, qs, shared] { submit_consume(qs, std::move(*shared)); });
  }

  // consumerSendMsgBack to the master of the broker the message came from. True when the
  // broker stored it in %RETRY%<group> or %DLQ%<group>.
  bool send_back(const MessageQueue& queue, const MessageExt& message, int32_t delay_level) {
    std::string addr = master_address(queue.broker_name);
    if (addr.empty()) {
      log_send_back_failure(queue, Status(code::kNoRoute, "no master address for broker " + queue.broker_name));
      return false;
    }
    wire::ConsumerSendBackRequest request = make_send_back_request(
        message, group_, delay_level, effective_max_reconsume_times(max_reconsume_times_, orderly()));
    wire::BaseResponse response;
    // Never re-sent on a fresh connection: the broker might store the message twice.
    Status s = client_->call_broker(
        addr, [&](wire::BrokerServiceClient& b) { b.consumerSendMsgBack(response, request); }, CallRetry::kNever);
    if (s && response.code == code::kSuccess) return true;
    if (s) s = Status(response.code, response.remark);
    if (s.code() == code::kRequestCodeNotSupported) {
      if (!no_schedule_warned_.exchange(true)) {
        client_log().error(
            "consumer {}: broker {} cannot take failed messages back ({}); retry topics and the DLQ need the "
            "schedule plugin in its plugins= list. Failed messages are redelivered locally after {} ms and the "
            "committed offset does not pass them (logged once)",
            group_, addr, s.to_string(), reconsume_delay_ms_);
      }
      return false;
    }
    log_send_back_failure(queue, s);
    return false;
  }

  void log_send_back_failure(const MessageQueue& queue, const Status& s) {
    int64_t now = steady_ms();
    int64_t last = last_send_back_log_ms_.load();
    if (now - last < kSendBackLogEveryMs || !last_send_back_log_ms_.compare_exchange_strong(last, now)) return;
    client_log().warn("consumer {}: sending a failed message of {} back failed: {}; redelivering it locally in {} ms",
                      group_, queue.to_string(), s.to_string(), reconsume_delay_ms_);
  }

  // Scheduler: messages whose listener call has run longer than consume_timeout are sent back
  // (delay level 3); the listener's later verdict on them is ignored.
  void sweep_consume_timeouts() {
    std::vector<std::shared_ptr<QueueState>> all;
    {
      std::lock_guard lock(queues_mu_);
      for (auto& [q, qs] : queues_) all.push_back(qs);
    }
    for (auto& qs : all) {
      if (qs->pq.dropped()) continue;
      for (auto& entry : qs->inflight.take_expired(steady_ms(), consume_timeout_ms_)) {
        const MessageExt& m = entry.message();
        client_log().warn(
            "consumer {}: {} offset {} (msgId {}) is still with the listener after {} ms; sending it back", group_,
            qs->queue.to_string(), m.queue_offset(), m.msg_id(), consume_timeout_ms_);
        if (send_back(qs->queue, m, kDelayLevelOnConsumeTimeout)) {
          update_offset(*qs, qs->pq.remove({m.queue_offset()}), true);
        } else {
          redeliver_later(qs, {MessageExt(m)});
        }
      }
    }
  }

  std::mutex state_mu_;
  State state_ = State::kCreated;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> no_schedule_warned_{false};
  std::atomic<int64_t> last_send_back_log_ms_{0};
  std::map<std::string, TagFilter> filters_;  // set by start(), read-only afterwards
  std::unique_ptr<ClientInstance> client_;
  std::unique_ptr<ThreadPool> consume_pool_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<GroupWatcher> watcher_;
  QueueLockTable locks_;
  OffsetStore offsets_;
  ReplicaSelector replicas_;
  std::unique_ptr<LocalOffsetFile> local_file_;  // broadcasting only
  std::mutex local_mu_;
  std::map<MessageQueue, int64_t> local_table_;  // broadcasting: every queue's offset (file content)
  std::mutex routes_mu_;
  std::map<std::string, wire::TopicRouteResponse> routes_;
  std::mutex queues_mu_;
  std::map<MessageQueue, std::shared_ptr<QueueState>> queues_;
  std::vector<std::shared_ptr<QueueState>> retired_;  // dropped; puller may still be finishing a pull
};

PushConsumer::PushConsumer(std::string group) : impl_(std::make_unique<Impl>(std::move(group))) {}
PushConsumer::~PushConsumer() = default;
void PushConsumer::set_namesrv_addr(std::string addresses) {
  impl_->namesrv_addr_ = std::move(addresses);
}
void PushConsumer::subscribe(const std::string& topic, const std::string& expression) {
  impl_->subscriptions_[topic] = expression;
  impl_->expression_types_[topic] = "TAG";
}
void PushConsumer::subscribe(const std::string& topic, const std::string& expression,
                             const std::string& expression_type) {
  impl_->subscriptions_[topic] = expression;
  impl_->expression_types_[topic] = expression_type == "SQL92" ? "SQL92" : "TAG";
}
void PushConsumer::register_message_listener(MessageListener listener) {
  if (!listener) {
    impl_->listener_ = nullptr;
    return;
  }
  impl_->listener_ = [plain = std::move(listener)](const std::vector<MessageExt>& messages,
                                                   ConsumeConcurrentlyContext&) { return plain(messages); };
  impl_->orderly_listener_ = nullptr;
}
void PushConsumer::register_message_listener_with_context(MessageListenerWithContext listener) {
  impl_->listener_ = std::move(listener);
  impl_->orderly_listener_ = nullptr;
}
void PushConsumer::register_message_listener_orderly(OrderlyMessageListener listener) {
  impl_->orderly_listener_ = std::move(listener);
  impl_->listener_ = nullptr;
}
void PushConsumer::set_allocate_strategy(AllocateStrategy strategy) {
  impl_->strategy_ = strategy;
}
void PushConsumer::set_offset_store_dir(std::string dir) {
  impl_->offset_store_dir_ = std::move(dir);
}
void PushConsumer::set_instance_name(std::string name) {
  impl_->set_instance_name(std::move(name));
}
void PushConsumer::set_message_model(MessageModel model) {
  impl_->model_ = model;
}
void PushConsumer::set_consume_thread_count(int threads) {
  impl_->consume_threads_ = threads;
}
void PushConsumer::set_consume_from_where(ConsumeFromWhere where) {
  impl_->from_where_ = where;
}
void PushConsumer::set_consume_timestamp_ms(int64_t ms) {
  impl_->consume_timestamp_ms_ = ms;
}
void PushConsumer::set_pull_batch_size(int messages) {
  impl_->pull_batch_size_ = messages;
}
void PushConsumer::set_consume_message_batch_max_size(int messages) {
  impl_->consume_batch_max_ = messages;
}
void PushConsumer::set_pull_threshold_for_queue(int messages) {
  impl_->pull_threshold_count_ = messages;
}
void PushConsumer::set_pull_threshold_size_for_queue_mib(int mib) {
  impl_->pull_threshold_mib_ = mib;
}
void PushConsumer::set_pull_suspend_timeout_ms(int ms) {
  impl_->suspend_timeout_ms_ = ms;
}
void PushConsumer::set_route_refresh_interval_ms(int ms) {
  impl_->route_refresh_ms_ = ms;
}
void PushConsumer::set_heartbeat_interval_ms(int ms) {
  impl_->heartbeat_ms_ = ms;
}
void PushConsumer::set_rebalance_interval_ms(int ms) {
  impl_->rebalance_ms_ = ms;
}
void PushConsumer::set_persist_offset_interval_ms(int ms) {
  impl_->persist_ms_ = ms;
}
void PushConsumer::set_reconsume_delay_ms(int ms) {
  impl_->reconsume_delay_ms_ = ms;
}
void PushConsumer::set_max_reconsume_times(int times) {
  impl_->max_reconsume_times_ = times;
}
void PushConsumer::set_consume_timeout_ms(int64_t ms) {
  impl_->consume_timeout_ms_ = ms;
}
void PushConsumer::set_suspend_current_queue_time_ms(int ms) {
  impl_->suspend_ms_ = ms;
}
const std::string& PushConsumer::group() const {
  return impl_->group_;
}
std::string PushConsumer::client_id() const {
  return impl_->client_id_;
}
Status PushConsumer::start() {
  return guarded_status("consumer start", [&] { return impl_->start(); });
}
Status PushConsumer::shutdown() {
  return guarded_status("consumer shutdown", [&] { return impl_->shutdown(); });
}

}  // namespace mq::client
