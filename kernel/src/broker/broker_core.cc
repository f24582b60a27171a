// BrokerCore: wires the topic, offset and client managers, the send and pull processors,
// the pull hold service, the kernel worker threads and the registration loop.
#include "broker/broker_core.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>

#include "broker/client_manager.h"
#include "broker/consumer_offset_manager.h"
#include "broker/group_change_service.h"
#include "broker/group_name.h"
#include "broker/pull_hold_service.h"
#include "broker/pull_processor.h"
#include "broker/queue_lock_manager.h"
#include "broker/registration_service.h"
#include "broker/send_processor.h"
#include "broker/subscription_group_manager.h"
#include "broker/topic_config_manager.h"
#include "broker/worker_thread.h"
#include "mq/schedule_service.h"

namespace mq::kernel {
namespace {

constexpr std::string_view kBrokerVersion = "0.1.0";
constexpr std::chrono::milliseconds kHoldCheckPeriod{50};
constexpr int32_t kMaxQueryMessages = 64;                  // RocketMQ maxMsgsNumBatch
constexpr int64_t kMaxGroupChangeWaitMs = 10 * 60 * 1000;  // longer waits are cut (answered unchanged)

std::filesystem::path config_dir(const BrokerSettings& s) {
  return std::filesystem::path(s.identity.store_root) / "config";
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class State { kNew, kRunning, kStopped };

}  // namespace

struct BrokerCore::Impl {
  Impl(BrokerSettings s, std::shared_ptr<MessageStore> st, std::shared_ptr<spdlog::logger> l, BrokerPlugins p)
      : settings(std::move(s)),
        store(std::move(st)),
        log(std::move(l)),
        plugins(std::move(p)),
        topics(config_dir(settings) / "topics.json", *log),
        offsets(config_dir(settings) / "consumerOffset.json", *log),
        groups(config_dir(settings) / "subscriptionGroup.json", *log),
        locks(std::chrono::milliseconds(settings.rebalance_lock_max_live_time_ms)),
        group_changes(now_ms(), [this](const std::string& g) { return clients.consumer_ids(g); }),
        holds(std::make_shared<PullHoldService>([this](HeldPull p) { wake(std::move(p)); })),
        send_processor(settings, *store, topics, plugins, *log),
        pull_processor(settings, *store, topics, offsets, groups, *holds, *log),
        registration(
            settings.register_name_server_period_ms, [this] { return make_registration(); }, *log) {}

  // Called by the hold service under its lock: only hands the pull to the pull worker.
  void wake(HeldPull pull) {
    auto deadline = pull.deadline;
    auto task = std::make_shared<HeldPull>(std::move(pull));
    bool posted = pull_worker.post([this, task, deadline] { pull_processor.rerun(std::move(*task), deadline); });
    if (!posted) {  // the worker is stopping: answer without holding
      PullResponse r;
      r.status = Status(Code::kPullNotFound, "broker is shutting down");
      r.next_begin_offset = task->request.queue_offset;
      task->reply(std::move(r));
    }
  }

  void expire_holds() {
    for (HeldPull& p : holds->take_expired(std::chrono::steady_clock::now()))
      pull_processor.rerun(std::move(p), std::nullopt);
    group_changes.expire(std::chrono::steady_clock::now());
  }

  // Logs a group's subscription inconsistencies once per change.
  void check_consistency(const std::string& group) {
    auto change = clients.inconsistency_change(group);
    if (!change) return;
    if (change->empty()) {
      log->info("consumer group '{}': the members' subscriptions are consistent again", group);
      return;
    }
    std::string text;
    for (const auto& line : *change) text += (text.empty() ? "" : "; ") + line;
    log->warn(
        "consumer group '{}' has members with inconsistent subscriptions: {}. Messages may be missed or "
        "filtered differently per queue; give every member of the group the same subscriptions",
        group, text);
  }

  // A client left (unregister or expiry): release its queue locks, tell its groups.
  void on_departure(const ClientManager::Departure& d) {
    if (size_t n = locks.release_client(d.client_id); n > 0)
      log->info("released {} queue locks of client '{}'", n, d.client_id);
    for (const auto& g : d.consumer_groups) {
      group_changes.bump(g);
      check_consistency(g);
    }
  }

  void persist_groups() {
    if (Status st = groups.persist(); !st) log->error("saving subscription groups failed: {}", st.message());
  }

  void persist_topics() {
    if (Status st = topics.persist(); !st) log->error("saving topics failed: {}", st.message());
  }

  void persist_offsets() {
    if (Status st = offsets.persist(); !st) log->error("saving consumer offsets failed: {}", st.message());
  }

  void on_topics_changed() {
    background.post([this] { persist_topics(); });
    registration.kick();
  }

  BrokerRegistration make_registration() const {
    BrokerRegistration r;
    r.cluster_name = settings.identity.cluster_name;
    r.broker_name = settings.identity.broker_name;
    r.broker_id = settings.identity.broker_id;
    r.broker_addr = settings.identity.broker_address.to_string();
    r.topics = topics.all();
    r.role = plugins.replication                ? plugins.replication->role()
             : settings.identity.broker_id == 0 ? "ASYNC_MASTER"
                                                : "SLAVE";
    return r;
  }

  Status check_queue(const std::string& topic, QueueId queue_id) const {
    auto config = topics.find(topic);
    if (!config)
      return Status(Code::kTopicNotExist,
                    "topic '" + topic + "' does not exist on broker '" + settings.identity.broker_name + "'");
    int32_t n = std::max(config->read_queue_nums, config->write_queue_nums);
    if (queue_id < 0 || queue_id >= n)
      return Status::invalid("queue id " + std::to_string(queue_id) + " is out of range for topic '" + topic +
                             "'; valid ids are 0.." + std::to_string(n - 1));
    return Status::ok();
  }

  Status not_running() const {
    return state.load() == State::kNew ? Status(Code::kServiceNotAvailable, "broker is not started yet")
                                       : Status(Code::kServiceNotAvailable, "broker is shutting down");
  }

  BrokerSettings settings;
  std::shared_ptr<MessageStore> store;
  std::shared_ptr<spdlog::logger> log;
  const BrokerPlugins plugins;
  TopicConfigManager topics;
  ConsumerOffsetManager offsets;
  SubscriptionGroupManager groups;
  ClientManager clients;
  QueueLockManager locks;
  GroupChangeService group_changes;  // parked group-change waits, expired by pull_worker
  // Shared with the store's arrival listener, which the store keeps forever: the listener
  // holds a weak reference and becomes a no-op once the hold service is closed.
  std::shared_ptr<PullHoldService> holds;
  // New pulls (validation + store read) alternate between these two threads so a pull
  // never touches the store on a transport io thread (a cold read page-faults).
  WorkerThread pull_worker{"broker-pull", *log};  // also: pull re-runs and hold timeouts
  WorkerThread pull_reader{"broker-pull-2", *log};
  std::atomic<uint32_t> pull_round_robin{0};
  WorkerThread background{"broker-bg", *log};  // file writes, client expiry
  SendProcessor send_processor;
  PullProcessor pull_processor;
  RegistrationService registration;
  std::atomic<State> state{State::kNew};
  std::mutex lifecycle_mu;
  int64_t boot_time_ms = 0;
};

BrokerCore::BrokerCore(BrokerSettings settings, std::shared_ptr<MessageStore> store,
                       std::shared_ptr<spdlog::logger> log, BrokerPlugins plugins)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(store), std::move(log), std::move(plugins))) {}

BrokerCore::~BrokerCore() {
  stop();
}

Status BrokerCore::start() {
  Impl& d = *impl_;
  std::lock_guard lock(d.lifecycle_mu);
  if (d.state.load() != State::kNew) return Status::system("BrokerCore::start called twice or after stop");
  if (d.settings.identity.store_root.empty())
    return Status::invalid("storePathRootDir is empty; set it in the broker configuration");
  std::error_code ec;
  std::filesystem::create_directories(config_dir(d.settings), ec);
  if (ec) return Status::system("cannot create " + config_dir(d.settings).string() + ": " + ec.message());
  if (Status st = d.topics.load(); !st) return st;
  if (Status st = d.offsets.load(); !st) return st;
  if (Status st = d.groups.load(); !st) return st;
  d.topics.set_on_change([&d] { d.on_topics_changed(); });
  d.groups.set_on_change([&d] { d.background.post([&d] { d.persist_groups(); }); });

  std::weak_ptr<PullHoldService> weak = d.holds;
  d.store->add_arrival_listener([weak](const std::string& topic, QueueId queue_id, QueueOffset next, int64_t hash) {
    if (auto holds = weak.lock()) holds->notify(topic, queue_id, next, hash);
  });

  d.pull_worker.start();
  d.pull_reader.start();
  d.background.start();
  d.pull_worker.every(kHoldCheckPeriod, [&d] { d.expire_holds(); });
  auto flush_period = std::chrono::milliseconds(std::max<int64_t>(d.settings.flush_consumer_offset_interval_ms, 10));
  d.background.every(flush_period, [&d] { d.persist_offsets(); });
  auto ttl = std::chrono::milliseconds(std::max<int64_t>(d.settings.client_channel_expired_ms, 1));
  auto scan = std::clamp(ttl / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(10000));
  d.background.every(scan, [&d, ttl] {
    for (const auto& gone : d.clients.expire(std::chrono::steady_clock::now(), ttl)) {
      d.log->info("client '{}' expired: no heartbeat for {} ms", gone.client_id, ttl.count());
      d.on_departure(gone);
    }
    if (size_t n = d.group_changes.prune(); n > 0)
      d.log->debug("forgot {} consumer groups with no member and no waiter", n);
  });
  d.background.post([&d] { d.persist_topics(); });
  d.boot_time_ms = now_ms();
  d.state.store(State::kRunning);
  d.log->info("broker core '{}' started: {} topics, store root {}", d.settings.identity.broker_name, d.topics.size(),
              d.settings.identity.store_root);
  return Status::ok();
}

void BrokerCore::stop() {
  Impl& d = *impl_;
  std::lock_guard lock(d.lifecycle_mu);
  State prev = d.state.exchange(State::kStopped);
  if (prev == State::kStopped) return;
  d.registration.stop();
  // Answer every parked pull; later wakes and parks are refused by the closed table.
  for (HeldPull& p : d.holds->close()) {
    PullResponse r;
    r.status = Status(Code::kPullNotFound, "broker is shutting down; no new message at topic '" + p.request.topic +
                                               "' queue " + std::to_string(p.request.queue_id));
    r.next_begin_offset = p.request.queue_offset;
    p.reply(std::move(r));
  }
  d.group_changes.close(Status(Code::kServiceNotAvailable, "broker is shutting down"));
  d.pull_reader.stop();
  d.pull_worker.stop();
  d.background.stop();
  if (prev == State::kRunning) {
    d.persist_offsets();
    d.persist_topics();
    d.persist_groups();
    d.log->info("broker core '{}' stopped", d.settings.identity.broker_name);
  }
}

void BrokerCore::start_registration(Transport& transport, std::vector<std::string> namesrv_addrs) {
  if (impl_->state.load() == State::kStopped) return;
  impl_->registration.start(transport, std::move(namesrv_addrs));
}

BrokerRegistration BrokerCore::registration() const {
  return impl_->make_registration();
}

void BrokerCore::send(SendRequest request, Reply<SendResponse> reply) {
  if (impl_->state.load() != State::kRunning) {
    SendResponse r;
    r.status = impl_->not_running();
    return reply(std::move(r));
  }
  impl_->send_processor.process(std::move(request), std::move(reply));
}

void BrokerCore::pull(PullRequest request, Reply<PullResponse> reply) {
  if (impl_->state.load() != State::kRunning) {
    PullResponse r;
    r.status = impl_->not_running();
    r.next_begin_offset = request.queue_offset;
    return reply(std::move(r));
  }
  Impl& d = *impl_;
  auto task = std::make_shared<std::pair<PullRequest, Reply<PullResponse>>>(std::move(request), std::move(reply));
  WorkerThread& worker = (d.pull_round_robin.fetch_add(1) & 1) != 0 ? d.pull_reader : d.pull_worker;
  bool posted = worker.post([&d, task] { d.pull_processor.process(std::move(task->first), std::move(task->second)); });
  if (!posted) {  // stop() began after the state check
    PullResponse r;
    r.status = d.not_running();
    r.next_begin_offset = task->first.queue_offset;
    task->second(std::move(r));
  }
}

Result<int64_t> BrokerCore::query_consumer_offset(const std::string& group, const std::string& topic,
                                                  QueueId queue_id) {
  if (auto offset = impl_->offsets.query(group, topic, queue_id)) return *offset;
  return Status(Code::kQueryNotFound, "consumer group '" + group + "' has no committed offset for topic '" + topic +
                                          "' queue " + std::to_string(queue_id));
}

Status BrokerCore::update_consumer_offset(const std::string& group, const std::string& topic, QueueId queue_id,
                                          int64_t offset) {
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  if (std::string why = validate_topic_name(topic); !why.empty()) return Status::invalid(why);
  if (offset < 0)
    return Status::invalid("consumer offset " + std::to_string(offset) + " for group '" + group + "' topic '" + topic +
                           "' queue " + std::to_string(queue_id) + " is negative");
  // Only existing queues: unknown topics would grow the offset table without bound.
  if (Status st = impl_->check_queue(topic, queue_id); !st) return st;
  impl_->offsets.commit(group, topic, queue_id, offset);
  return Status::ok();
}

Result<QueueOffset> BrokerCore::min_offset(const std::string& topic, QueueId queue_id) {
  if (Status st = impl_->check_queue(topic, queue_id); !st) return st;
  return impl_->store->min_offset(topic, queue_id);
}

Result<QueueOffset> BrokerCore::max_offset(const std::string& topic, QueueId queue_id) {
  if (Status st = impl_->check_queue(topic, queue_id); !st) return st;
  return impl_->store->max_offset(topic, queue_id);
}

Result<QueueOffset> BrokerCore::search_offset_by_timestamp(const std::string& topic, QueueId queue_id,
                                                           int64_t timestamp_ms) {
  if (Status st = impl_->check_queue(topic, queue_id); !st) return st;
  return impl_->store->offset_by_time(topic, queue_id, timestamp_ms);
}

Status BrokerCore::heartbeat(const HeartbeatRequest& request) {
  Impl& d = *impl_;
  if (request.client_version > 0 && request.client_version < d.settings.min_client_version)
    return Status(Code::kVersionNotSupported,
                  "client '" + request.client_id + "' has protocol version " + std::to_string(request.client_version) +
                      "; broker '" + d.settings.identity.broker_name + "' needs at least " +
                      std::to_string(d.settings.min_client_version) + "; upgrade the client");
  for (const auto& c : request.consumers) {
    for (const auto& s : c.subscriptions) {
      auto filter = make_pull_filter(s.expression_type, s.expression);
      if (!filter)
        return Status(filter.status().code(), "heartbeat of client '" + request.client_id + "' group '" + c.group +
                                                  "' topic '" + s.topic + "': " + filter.status().message());
    }
  }
  std::set<std::string> changed;
  std::set<std::string> touched;
  Status st = d.clients.heartbeat(request, std::chrono::steady_clock::now(), now_ms(), &changed, &touched);
  if (!st) return st;
  if (d.settings.auto_create_subscription_group)
    for (const auto& c : request.consumers) (void)d.groups.create_if_absent(c.group);
  // RocketMQ: a clustering consumer's %RETRY%<group> exists as soon as it heartbeats, so the
  // consumer can pull it before the first send-back (retryQueueNums queues, read/write).
  for (const auto& c : request.consumers) {
    if (c.message_model != MessageModel::kClustering) continue;
    std::string retry_topic = std::string(kRetryGroupTopicPrefix) + c.group;
    if (!validate_topic_name(retry_topic).empty()) continue;  // group name too long for a topic
    int32_t queues = 1;
    if (auto g = d.groups.find(c.group)) queues = std::max(1, g->retry_queue_nums);
    (void)d.topics.create_if_absent(retry_topic, queues);
  }
  for (const auto& g : changed) {
    d.log->info("consumer group '{}' membership changed by client '{}'", g, request.client_id);
    d.group_changes.bump(g);
  }
  for (const auto& g : touched) d.check_consistency(g);
  return Status::ok();
}

Status BrokerCore::unregister_client(const std::string& client_id) {
  Impl& d = *impl_;
  if (auto gone = d.clients.unregister(client_id)) {
    d.log->info("client '{}' unregistered", client_id);
    d.on_departure(*gone);
  } else if (d.locks.release_client(client_id) > 0) {
    d.log->info("released the queue locks of unknown client '{}'", client_id);
  }
  return Status::ok();
}

Result<std::vector<std::string>> BrokerCore::consumer_ids(const std::string& group) {
  return impl_->clients.consumer_ids(group);
}

Status BrokerCore::create_topic(const TopicConfig& config) {
  return impl_->topics.create_or_update(config);
}

std::vector<TopicConfig> BrokerCore::topics() {
  return impl_->topics.all();
}

Result<std::vector<QueueConsumeStat>> BrokerCore::consume_stats(const std::string& group, const std::string& topic) {
  Impl& d = *impl_;
  if (group.empty()) return Status::invalid("consume stats need a consumer group");
  auto group_offsets = d.offsets.offsets_of_group(group);
  std::map<std::string, std::set<QueueId>> queues;  // topic -> queues to report
  auto add_topic = [&](const std::string& name) {
    auto& ids = queues[name];
    if (auto config = d.topics.find(name))
      for (QueueId q = 0; q < std::max(config->read_queue_nums, config->write_queue_nums); ++q) ids.insert(q);
    if (auto it = group_offsets.find(name); it != group_offsets.end())
      for (const auto& [q, offset] : it->second) ids.insert(q);
  };
  if (!topic.empty()) {
    if (!d.topics.find(topic) && !group_offsets.count(topic))
      return Status(Code::kTopicNotExist,
                    "topic '" + topic + "' does not exist on broker '" + d.settings.identity.broker_name + "'");
    add_topic(topic);
  } else {
    for (const auto& [name, offsets] : group_offsets) add_topic(name);
  }
  std::vector<QueueConsumeStat> out;
  for (const auto& [name, ids] : queues) {
    for (QueueId q : ids) {
      QueueConsumeStat s;
      s.topic = name;
      s.broker_name = d.settings.identity.broker_name;
      s.queue_id = q;
      s.broker_offset = d.store->max_offset(name, q);
      if (auto it = group_offsets.find(name); it != group_offsets.end())
        if (auto o = it->second.find(q); o != it->second.end()) s.consumer_offset = o->second;
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::map<std::string, std::string> BrokerCore::runtime_info() {
  Impl& d = *impl_;
  StoreStats stats = d.store->stats();
  std::map<std::string, std::string> info;
  info["brokerName"] = d.settings.identity.broker_name;
  info["brokerId"] = std::to_string(d.settings.identity.broker_id);
  info["clusterName"] = d.settings.identity.cluster_name;
  info["brokerAddr"] = d.settings.identity.broker_address.to_string();
  info["version"] = std::string(kBrokerVersion);
  info["bootTime"] = std::to_string(d.boot_time_ms);
  info["putCount"] = std::to_string(stats.put_count);
  info["getCount"] = std::to_string(stats.get_count);
  info["minCommitLogOffset"] = std::to_string(stats.min_commit_log_offset.value());
  info["maxCommitLogOffset"] = std::to_string(stats.max_commit_log_offset.value());
  info["flushedCommitLogOffset"] = std::to_string(stats.flushed_commit_log_offset.value());
  info["dispatchedOffset"] = std::to_string(stats.dispatched_commit_log_offset.value());
  // RocketMQ's name: how far consume queues lag the log (messages appended but not yet
  // visible to consumers).
  info["dispatchBehindBytes"] = std::to_string(
      std::max<int64_t>(0, stats.max_commit_log_offset.value() - stats.dispatched_commit_log_offset.value()));
  info["storeReadOnly"] = stats.read_only ? "true" : "false";
  if (stats.read_only) info["storeReadOnlyReason"] = stats.read_only_reason;
  info["topicCount"] = std::to_string(d.topics.size());
  info["clientCount"] = std::to_string(d.clients.client_count());
  info["heldPullCount"] = std::to_string(d.holds->size());
  info["subscriptionGroupCount"] = std::to_string(d.groups.size());
  info["queueLockCount"] = std::to_string(d.locks.size());
  info["groupChangeWaitCount"] = std::to_string(d.group_changes.waiting());
  if (d.plugins.replication)
    for (auto& [k, v] : d.plugins.replication->runtime_info()) info[k] = std::move(v);
  return info;
}

Result<std::vector<QueueRef>> BrokerCore::lock_batch(const std::string& group, const std::string& client_id,
                                                     const std::vector<QueueRef>& queues) {
  Impl& d = *impl_;
  if (d.state.load() != State::kRunning) return d.not_running();
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  if (client_id.empty()) return Status::invalid("lock of group '" + group + "' without a client id");
  for (const QueueRef& q : queues) {
    if (std::string why = validate_topic_name(q.topic); !why.empty()) return Status::invalid(why);
    if (q.queue_id < 0)
      return Status::invalid("lock of topic '" + q.topic + "' queue " + std::to_string(q.queue_id) +
                             ": the queue id is negative");
  }
  auto held = d.locks.lock_batch(group, client_id, queues, std::chrono::steady_clock::now());
  d.log->debug("client '{}' of group '{}' holds {} of {} requested queue locks", client_id, group, held.size(),
               queues.size());
  return held;
}

Status BrokerCore::unlock_batch(const std::string& group, const std::string& client_id,
                                const std::vector<QueueRef>& queues) {
  Impl& d = *impl_;
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  if (client_id.empty()) return Status::invalid("unlock of group '" + group + "' without a client id");
  d.locks.unlock_batch(group, client_id, queues);
  return Status::ok();
}

void BrokerCore::wait_consumer_group_change(const std::string& group, const std::string& client_id,
                                            int64_t known_version, int64_t timeout_ms,
                                            Reply<ConsumerGroupChange> reply) {
  Impl& d = *impl_;
  ConsumerGroupChange error;
  error.version = known_version;
  if (d.state.load() != State::kRunning) {
    error.status = d.not_running();
    return reply(std::move(error));
  }
  if (std::string why = validate_group_name(group); !why.empty()) {
    error.status = Status::invalid("group-change wait of client '" + client_id + "': " + why);
    return reply(std::move(error));
  }
  auto wait = std::chrono::milliseconds(std::clamp<int64_t>(timeout_ms, 0, kMaxGroupChangeWaitMs));
  auto deadline = std::chrono::steady_clock::now() + wait;
  d.group_changes.wait(group, known_version, deadline, std::move(reply));
}

Status BrokerCore::delete_topic(const std::string& topic) {
  Impl& d = *impl_;
  if (std::string why = validate_topic_name(topic); !why.empty()) return Status::invalid(why);
  if (!d.topics.remove(topic))
    return Status(Code::kTopicNotExist,
                  "topic '" + topic + "' does not exist on broker '" + d.settings.identity.broker_name + "'");
  size_t offsets = d.offsets.remove_topic(topic);
  d.locks.release_topic(topic);
  d.log->info("topic '{}' deleted with the offsets of {} consumer groups; its stored messages age out by retention",
              topic, offsets);
  d.background.post([&d] { d.persist_offsets(); });
  return Status::ok();
}

Status BrokerCore::update_subscription_group(const SubscriptionGroupConfig& config) {
  return impl_->groups.create_or_update(config);
}

std::vector<SubscriptionGroupConfig> BrokerCore::subscription_groups() {
  return impl_->groups.all();
}

Result<StoredMessage> BrokerCore::view_message(CommitLogOffset offset) {
  Impl& d = *impl_;
  if (offset.value() < 0)
    return Status(Code::kQueryNotFound, "commit-log offset " + std::to_string(offset.value()) + " is negative");
  auto msg = d.store->read_at(offset);
  if (!msg)
    return Status(Code::kQueryNotFound, "no message starts at commit-log offset " + std::to_string(offset.value()) +
                                            " on broker '" + d.settings.identity.broker_name +
                                            "': " + msg.status().message());
  return msg;
}

Result<std::vector<StoredMessage>> BrokerCore::query_message_by_key(const std::string& topic, const std::string& key,
                                                                    int32_t max_count, int64_t begin_ms,
                                                                    int64_t end_ms) {
  Impl& d = *impl_;
  if (!d.topics.find(topic))
    return Status(Code::kTopicNotExist,
                  "topic '" + topic + "' does not exist on broker '" + d.settings.identity.broker_name + "'");
  if (key.empty()) return Status::invalid("query of topic '" + topic + "' needs a non-empty key");
  if (max_count <= 0)
    return Status::invalid("query of topic '" + topic + "' asks for max " + std::to_string(max_count) +
                           " messages; it must be positive");
  if (end_ms >= 0 && begin_ms > end_ms)
    return Status::invalid("query of topic '" + topic + "': begin " + std::to_string(begin_ms) + " is after end " +
                           std::to_string(end_ms));
  auto found = d.store->query_by_key(topic, key, std::min(max_count, kMaxQueryMessages), begin_ms, end_ms);
  if (found.empty())
    return Status(Code::kQueryNotFound, "no message of topic '" + topic + "' with key '" + key + "' stored in [" +
                                            std::to_string(begin_ms) + ", " +
                                            (end_ms < 0 ? std::string("now") : std::to_string(end_ms)) + "]");
  return found;
}

Result<std::map<QueueId, int64_t>> BrokerCore::reset_offset_by_timestamp(const std::string& group,
                                                                         const std::string& topic, int64_t timestamp_ms,
                                                                         bool force) {
  Impl& d = *impl_;
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  auto config = d.topics.find(topic);
  if (!config)
    return Status(Code::kTopicNotExist,
                  "topic '" + topic + "' does not exist on broker '" + d.settings.identity.broker_name + "'");
  std::map<QueueId, int64_t> result;
  const QueueId n = std::max(config->read_queue_nums, config->write_queue_nums);
  for (QueueId q = 0; q < n; ++q) {
    int64_t target = timestamp_ms < 0 ? d.store->max_offset(topic, q).value()
                                      : d.store->offset_by_time(topic, q, timestamp_ms).value();
    if (!force)
      if (auto current = d.offsets.query(group, topic, q); current && *current > target) target = *current;
    d.offsets.commit(group, topic, q, target);
    result[q] = target;
  }
  int64_t version = d.group_changes.bump(group, topic);
  d.log->info("offsets of group '{}' topic '{}' reset to timestamp {} (force={}) on {} queues; group version {}", group,
              topic, timestamp_ms, force, n, version);
  d.background.post([&d] { d.persist_offsets(); });
  return result;
}

Result<ConsumerConnection> BrokerCore::consumer_connection(const std::string& group) {
  Impl& d = *impl_;
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  auto view = d.clients.consumer_group(group);
  if (view.connections.empty() || !view.newest)
    return Status(Code::kConsumerNotOnline, "consumer group '" + group + "' has no live member on broker '" +
                                                d.settings.identity.broker_name + "'");
  ConsumerConnection out;
  out.connections = std::move(view.connections);
  out.consume_type = view.newest->consume_type;
  out.message_model = view.newest->message_model;
  out.consume_from_where = view.newest->consume_from_where;
  out.subscriptions = std::move(view.subscriptions);
  out.inconsistencies = d.clients.inconsistencies(group);
  return out;
}

Result<std::vector<ConnectionInfo>> BrokerCore::producer_connection(const std::string& group) {
  if (std::string why = validate_group_name(group); !why.empty()) return Status::invalid(why);
  return impl_->clients.producer_group(group);
}

// ---- served by plugins ----

namespace {
Status plugin_not_loaded(std::string_view plugin, std::string_view request) {
  return Status(Code::kRequestCodeNotSupported, std::string(plugin) + " plugin not loaded: " + std::string(request) +
                                                    " needs it; add " + std::string(plugin) +
                                                    " to plugins= in the broker configuration");
}
}  // namespace

void BrokerCore::consumer_send_back(ConsumerSendBack request, Reply<Status> reply) {
  Impl& d = *impl_;
  if (d.state.load() != State::kRunning) return reply(d.not_running());
  if (!d.plugins.schedule) return reply(plugin_not_loaded("schedule", "consumer send-back (retry and DLQ)"));
  d.plugins.schedule->send_back(std::move(request), std::move(reply));
}

void BrokerCore::cancel_scheduled(std::string topic, std::string msg_id, Reply<Status> reply) {
  Impl& d = *impl_;
  if (d.state.load() != State::kRunning) return reply(d.not_running());
  if (!d.plugins.schedule) return reply(plugin_not_loaded("schedule", "cancelling a scheduled message"));
  d.plugins.schedule->cancel(std::move(topic), std::move(msg_id), std::move(reply));
}

void BrokerCore::end_transaction(EndTransaction request, Reply<Status> reply) {
  Impl& d = *impl_;
  if (d.state.load() != State::kRunning) return reply(d.not_running());
  if (!d.plugins.transaction) return reply(plugin_not_loaded("transaction", "end transaction"));
  d.plugins.transaction->end_transaction(std::move(request), std::move(reply));
}

void BrokerCore::poll_transaction_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) {
  Impl& d = *impl_;
  TransactionChecks refused;
  if (d.state.load() != State::kRunning) {
    refused.status = d.not_running();
    return reply(std::move(refused));
  }
  if (!d.plugins.transaction) {
    refused.status = plugin_not_loaded("transaction", "transaction check-back polling");
    return reply(std::move(refused));
  }
  d.plugins.transaction->poll_checks(std::move(request), std::move(reply));
}

// ---- BrokerContext ----

std::optional<TopicConfig> BrokerCore::find_topic(const std::string& topic) {
  return impl_->topics.find(topic);
}

Result<TopicConfig> BrokerCore::ensure_topic(const TopicConfig& wanted) {
  if (impl_->state.load() == State::kStopped) return impl_->not_running();
  return impl_->topics.ensure(wanted);
}

std::optional<SubscriptionGroupConfig> BrokerCore::find_subscription_group(const std::string& group) {
  if (auto found = impl_->groups.find(group)) return found;
  SubscriptionGroupConfig defaults;
  defaults.group_name = group;
  return defaults;
}

bool BrokerCore::producer_online(const std::string& group) {
  return !impl_->clients.producer_group(group).empty();
}

// ---- replication metadata (ha-sync) ----

Result<std::string> BrokerCore::export_metadata() {
  Impl& d = *impl_;
  nlohmann::json topics = nlohmann::json::object();
  for (const auto& t : d.topics.all()) topics[t.topic_name] = TopicTableTraits::to_json(t.topic_name, t);
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& g : d.groups.all()) groups[g.group_name] = SubscriptionGroupTableTraits::to_json(g.group_name, g);
  nlohmann::json offsets = nlohmann::json::object();
  for (const auto& [key, queues] : d.offsets.all()) {
    nlohmann::json& entry = offsets[key];
    entry = nlohmann::json::object();
    for (const auto& [q, o] : queues) entry[std::to_string(q)] = o;
  }
  nlohmann::json root = {{"topicConfigTable", std::move(topics)},
                         {"subscriptionGroupTable", std::move(groups)},
                         {"offsetTable", std::move(offsets)}};
  return root.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status BrokerCore::import_metadata(std::string_view json) {
  Impl& d = *impl_;
  if (d.state.load() != State::kRunning) return d.not_running();
  std::vector<TopicConfig> topics;
  std::vector<SubscriptionGroupConfig> groups;
  std::map<std::string, std::map<QueueId, int64_t>> offsets;
  try {
    nlohmann::json root = nlohmann::json::parse(json);
    const nlohmann::json& t = root.at("topicConfigTable");
    for (auto it = t.begin(); it != t.end(); ++it) topics.push_back(TopicTableTraits::from_json(it.key(), it.value()));
    const nlohmann::json& g = root.at("subscriptionGroupTable");
    for (auto it = g.begin(); it != g.end(); ++it)
      groups.push_back(SubscriptionGroupTableTraits::from_json(it.key(), it.value()));
    const nlohmann::json& o = root.at("offsetTable");
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (it.key().find('@') == std::string::npos)
        return Status::invalid("replicated metadata: offset key '" + it.key() + "' is not of the form topic@group");
      auto& queues = offsets[it.key()];
      for (auto q = it.value().begin(); q != it.value().end(); ++q)
        queues[static_cast<QueueId>(std::stol(q.key()))] = q.value().get<int64_t>();
    }
  } catch (const std::exception& e) {
    return Status::invalid(std::string("replicated metadata has an unexpected layout: ") + e.what() +
                           "; expected {\"topicConfigTable\", \"subscriptionGroupTable\", \"offsetTable\"}");
  }
  std::set<std::string> keep_topics;
  for (const auto& t : topics) {
    if (Status st = d.topics.create_or_update(t); !st)
      return Status::invalid("replicated topic '" + t.topic_name + "': " + st.message());
    keep_topics.insert(t.topic_name);
  }
  for (const auto& t : d.topics.all())
    if (!keep_topics.contains(t.topic_name)) d.topics.remove(t.topic_name);
  // Groups are only added or updated (the table has no removal; an extra group is harmless).
  for (const auto& g : groups) {
    if (Status st = d.groups.create_or_update(g); !st)
      return Status::invalid("replicated subscription group '" + g.group_name + "': " + st.message());
  }
  d.offsets.replace_all(std::move(offsets));
  d.background.post([&d] { d.persist_offsets(); });
  return Status::ok();
}

}  // namespace mq::kernel
