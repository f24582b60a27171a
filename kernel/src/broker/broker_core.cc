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
#include "broker/group_name.h"
#include "broker/pull_hold_service.h"
#include "broker/pull_processor.h"
#include "broker/registration_service.h"
#include "broker/send_processor.h"
#include "broker/topic_config_manager.h"
#include "broker/worker_thread.h"

namespace mq::kernel {
namespace {

constexpr std::string_view kBrokerVersion = "0.1.0";
constexpr std::chrono::milliseconds kHoldCheckPeriod{50};

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
  Impl(BrokerSettings s, std::shared_ptr<MessageStore> st, std::shared_ptr<spdlog::logger> l)
      : settings(std::move(s)),
        store(std::move(st)),
        log(std::move(l)),
        topics(config_dir(settings) / "topics.json", *log),
        offsets(config_dir(settings) / "consumerOffset.json", *log),
        holds(std::make_shared<PullHoldService>([this](HeldPull p) { wake(std::move(p)); })),
        send_processor(settings, *store, topics, *log),
        pull_processor(settings, *store, topics, offsets, *holds, *log),
        registration(settings.namesrv_addrs, settings.register_name_server_period_ms,
                     [this] { return make_registration(); }, *log) {}

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
  TopicConfigManager topics;
  ConsumerOffsetManager offsets;
  ClientManager clients;
  // Shared with the store's arrival listener, which the store keeps forever: the listener
  // holds a weak reference and becomes a no-op once the hold service is closed.
  std::shared_ptr<PullHoldService> holds;
  WorkerThread pull_worker{"broker-pull", *log};  // pull re-runs and hold timeouts
  WorkerThread background{"broker-bg", *log};     // file writes, client expiry
  SendProcessor send_processor;
  PullProcessor pull_processor;
  RegistrationService registration;
  std::atomic<State> state{State::kNew};
  std::mutex lifecycle_mu;
  int64_t boot_time_ms = 0;
};

BrokerCore::BrokerCore(BrokerSettings settings, std::shared_ptr<MessageStore> store,
                       std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(store), std::move(log))) {}

BrokerCore::~BrokerCore() { stop(); }

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
  d.topics.set_on_change([&d] { d.on_topics_changed(); });

  std::weak_ptr<PullHoldService> weak = d.holds;
  d.store->add_arrival_listener([weak](const std::string& topic, QueueId queue_id, QueueOffset next, int64_t hash) {
    if (auto holds = weak.lock()) holds->notify(topic, queue_id, next, hash);
  });

  d.pull_worker.start();
  d.background.start();
  d.pull_worker.every(kHoldCheckPeriod, [&d] { d.expire_holds(); });
  auto flush_period = std::chrono::milliseconds(std::max<int64_t>(d.settings.flush_consumer_offset_interval_ms, 10));
  d.background.every(flush_period, [&d] { d.persist_offsets(); });
  auto ttl = std::chrono::milliseconds(std::max<int64_t>(d.settings.client_channel_expired_ms, 1));
  auto scan = std::clamp(ttl / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(10000));
  d.background.every(scan, [&d, ttl] {
    for (const auto& id : d.clients.expire(std::chrono::steady_clock::now(), ttl))
      d.log->info("client '{}' expired: no heartbeat for {} ms", id, ttl.count());
  });
  d.background.post([&d] { d.persist_topics(); });
  d.boot_time_ms = now_ms();
  d.state.store(State::kRunning);
  d.log->info("broker core '{}' started: {} topics, store root {}", d.settings.identity.broker_name,
              d.topics.size(), d.settings.identity.store_root);
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
  d.pull_worker.stop();
  d.background.stop();
  if (prev == State::kRunning) {
    d.persist_offsets();
    d.persist_topics();
    d.log->info("broker core '{}' stopped", d.settings.identity.broker_name);
  }
}

void BrokerCore::start_registration(Transport& transport) {
  if (impl_->state.load() == State::kStopped) return;
  impl_->registration.start(transport);
}

BrokerRegistration BrokerCore::registration() const { return impl_->make_registration(); }

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
  impl_->pull_processor.process(std::move(request), std::move(reply));
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
  if (queue_id < 0) return Status::invalid("queue id " + std::to_string(queue_id) + " is negative");
  if (offset < 0)
    return Status::invalid("consumer offset " + std::to_string(offset) + " for group '" + group + "' topic '" + topic +
                           "' queue " + std::to_string(queue_id) + " is negative");
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
  return impl_->clients.heartbeat(request, std::chrono::steady_clock::now());
}

Status BrokerCore::unregister_client(const std::string& client_id) {
  if (impl_->clients.unregister(client_id)) impl_->log->info("client '{}' unregistered", client_id);
  return Status::ok();
}

Result<std::vector<std::string>> BrokerCore::consumer_ids(const std::string& group) {
  return impl_->clients.consumer_ids(group);
}

Status BrokerCore::create_topic(const TopicConfig& config) { return impl_->topics.create_or_update(config); }

std::vector<TopicConfig> BrokerCore::topics() { return impl_->topics.all(); }

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
      return Status(Code::kTopicNotExist, "topic '" + topic + "' does not exist on broker '" +
                                              d.settings.identity.broker_name + "'");
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
  info["storeReadOnly"] = stats.read_only ? "true" : "false";
  if (stats.read_only) info["storeReadOnlyReason"] = stats.read_only_reason;
  info["topicCount"] = std::to_string(d.topics.size());
  info["clientCount"] = std::to_string(d.clients.client_count());
  info["heldPullCount"] = std::to_string(d.holds->size());
  return info;
}

}  // namespace mq::kernel
