// Producer: validation, route cache, queue selection with retries, coalesced async sends.
#include "mq/client/producer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "client_instance.h"
#include "client_session.h"
#include "latency_fault.h"
#include "local_address.h"
#include "logging.h"
#include "message_id.h"
#include "message_validator.h"
#include "mq_constants.h"
#include "name_server_list.h"
#include "scheduler.h"
#include "send_request.h"
#include "send_retry.h"
#include "send_accumulator.h"
#include "topic_route.h"
#include "wire_convert.h"
#include "guarded_call.h"

namespace mq::client {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

SendResult failed(int c, std::string remark) {
  SendResult r;
  r.code = c;
  r.remark = std::move(remark);
  return r;
}

std::atomic<uint64_t> g_producer_counter{0};

}  // namespace

class Producer::Impl {
 public:
  explicit Impl(std::string group)
      : group_(std::move(group)), client_id_(make_client_id("p", g_producer_counter.fetch_add(1))) {}

  // Configuration (read-only after start()).
  std::string group_;
  std::string client_id_;
  std::string namesrv_addr_;
  int send_timeout_ms_ = 3000;
  int retry_times_ = 2;
  int64_t max_message_size_ = 4 << 20;
  int async_threads_ = 4;
  int async_capacity_ = 10000;
  int async_linger_ms_ = 0;
  int64_t async_batch_max_bytes_ = 1024 * 1024;
  int async_batch_max_messages_ = 1024;
  int route_refresh_ms_ = 30000;
  int heartbeat_ms_ = 30000;
  bool latency_fault_enable_ = true;
  // Brokers that answered an encoded batch as if it carried no message (they predate
  // encodedMessages): batches to them go as `messages`. Any sender thread.
  std::mutex no_encoding_mu_;
  std::set<std::string> no_encoding_brokers_;  // guarded by no_encoding_mu_
  bool encodes_batches(const std::string& addr) {
    std::lock_guard lock(no_encoding_mu_);
    return no_encoding_brokers_.count(addr) == 0;
  }
  void remember_no_encoded_batches(const std::string& addr) {
    std::lock_guard lock(no_encoding_mu_);
    no_encoding_brokers_.insert(addr);
  }

  enum class State { kCreated, kRunning, kStopped };
  std::mutex state_mu_;
  State state_ = State::kCreated;
  std::unique_ptr<ClientInstance> client_;
  // Coalesces send_async calls into batch requests; shared: send_async may hold it while
  // shutdown runs (it then refuses the send).
  std::shared_ptr<SendAccumulator> async_sends_;
  std::string born_host_;
  std::unique_ptr<Scheduler> scheduler_;  // heartbeats to the brokers this producer talks to
  LatencyFaultTolerance fault_;
  std::mutex brokers_mu_;
  std::set<std::string> brokers_;  // master addresses seen in routes (heartbeat targets)

  struct CachedRoute {
    std::shared_ptr<const TopicPublishInfo> info;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex routes_mu_;
  std::map<std::string, CachedRoute> routes_;

  Status start() {
    std::lock_guard lock(state_mu_);
    if (state_ != State::kCreated) return Status(code::kIllegalState, "producer " + group_ + " was already started");
    if (group_.empty()) return Status(code::kIllegalArgument, "the producer group is empty; pass a group name");
    if (send_timeout_ms_ <= 0) return Status(code::kIllegalArgument, "send timeout must be > 0 ms");
    if (Status s = open_send_client(namesrv_addr_, send_timeout_ms_, &client_); !s) return s;
    SendAccumulator::Options async_options;
    async_options.linger_ms = std::max(0, async_linger_ms_);
    async_options.max_batch_bytes =
        static_cast<size_t>(std::clamp<int64_t>(async_batch_max_bytes_, 1, max_message_size_));
    async_options.max_batch_messages = static_cast<size_t>(std::max(1, async_batch_max_messages_));
    async_options.capacity = static_cast<size_t>(std::max(1, async_capacity_));
    async_options.sender_threads = std::max(1, async_threads_);
    async_sends_ = std::make_shared<SendAccumulator>(
        async_options, [this](std::vector<PendingSend>& batch) { return send_coalesced(batch); });
    born_host_ = local_ip_string() + ":0";
    scheduler_ = std::make_unique<Scheduler>("producer-heartbeat");
    scheduler_->schedule_every(heartbeat_ms_, heartbeat_ms_, [this] { send_heartbeat(); });
    scheduler_->start();
    state_ = State::kRunning;
    client_log().info("producer {} started (name servers: {})", group_, namesrv_addr_.empty() ? "$NAMESRV_ADDR" : namesrv_addr_);
    return Status::ok();
  }

  // Queued async sends still run (the state stays kRunning until they are done), then the
  // channels are closed.
  Status shutdown() {
    std::shared_ptr<SendAccumulator> async_sends;
    {
      std::lock_guard lock(state_mu_);
      if (state_ != State::kRunning) {
        state_ = State::kStopped;
        return Status::ok();
      }
      async_sends = std::move(async_sends_);  // send_async refuses new work from here on
    }
    if (async_sends) async_sends->shutdown();  // sends what is pending: every callback runs
    {
      std::lock_guard lock(state_mu_);
      state_ = State::kStopped;
    }
    scheduler_->stop();
    unregister_client(*client_, client_id_, heartbeat_targets(), "producer " + group_);
    client_->close_all();
    client_log().info("producer {} shut down", group_);
    return Status::ok();
  }

  bool running() {
    std::lock_guard lock(state_mu_);
    return state_ == State::kRunning;
  }

  // Returns the cached publish info, refreshed from the name server when older than the
  // refresh interval or when force is set. A failed refresh keeps serving a stale entry.
  Status publish_info(const std::string& topic, bool force, std::shared_ptr<const TopicPublishInfo>* out) {
    {
      std::lock_guard lock(routes_mu_);
      auto it = routes_.find(topic);
      if (it != routes_.end() && !force &&
          std::chrono::steady_clock::now() - it->second.fetched < std::chrono::milliseconds(route_refresh_ms_)) {
        *out = it->second.info;
        return Status::ok();
      }
    }
    wire::TopicRouteResponse route;
    Status s = client_->fetch_route(topic, &route);
    std::lock_guard lock(routes_mu_);
    if (!s) {
      auto it = routes_.find(topic);
      if (it != routes_.end()) {
        *out = it->second.info;
        return Status::ok();
      }
      return s;
    }
    auto info = std::make_shared<const TopicPublishInfo>(TopicPublishInfo::from_route(topic, route));
    routes_[topic] = CachedRoute{info, std::chrono::steady_clock::now()};
    bool new_broker = false;
    {
      std::lock_guard blocks(brokers_mu_);
      for (const auto& [name, addr] : master_addresses(route)) new_broker |= brokers_.insert(addr).second;
    }
    // A broker seen for the first time learns about this producer now, not in 30 s.
    if (new_broker && scheduler_) scheduler_->schedule(0, [this] { send_heartbeat(); });
    *out = std::move(info);
    return Status::ok();
  }

  void invalidate_route(const std::string& topic) {
    std::lock_guard lock(routes_mu_);
    auto it = routes_.find(topic);
    if (it != routes_.end()) it->second.fetched = std::chrono::steady_clock::time_point{};
  }

  Status prepare(const Message& message, wire::Message* out, std::string* msg_id) {
    if (!running()) return Status(code::kIllegalState, "producer " + group_ + " is not running; call start() first");
    return prepare_wire_message(message, max_message_size_, out, msg_id);
  }

  wire::SendRequest make_request(const wire::Message& message, int32_t queue_id) {
    return make_send_request(group_, message, queue_id, born_host_);
  }

  std::set<std::string> heartbeat_targets() {
    std::lock_guard lock(brokers_mu_);
    return brokers_;
  }

  // Runs on the scheduler thread.
  void send_heartbeat() {
    send_producer_heartbeat(*client_, client_id_, group_, heartbeat_targets(), "producer " + group_);
  }

  BrokerAvailableFn availability() {
    if (!latency_fault_enable_) return {};
    return [this](const std::string& broker) { return fault_.is_available(broker, steady_ms()); };
  }

  // Sends a request (one message or a batch) to queue and records the broker's latency / failure.
  SendResult send_request(wire::SendRequest& request, const std::string& msg_id, const MessageQueue& queue,
                          const std::string& addr, bool batch = false) {
    if (addr.empty()) return failed(code::kNoRoute, "broker " + queue.broker_name + " has no master address");
    request.queueId = queue.queue_id;
    wire::SendResponse response;
    const int64_t started = steady_ms();
    // A batch goes as one encoded body (the broker stores it without a struct per message);
    // a broker from before encodedMessages sees no message and gets `messages` instead.
    const bool encode = batch && encodes_batches(addr);
    Status s = client_->call_broker(
        addr,
        [&](wire::BrokerServiceClient& broker) {
          if (!encode) return broker.send(response, request);
          broker.send(response, encoded_batch_request(request));
          if (predates_encoded_batches(response)) {
            remember_no_encoded_batches(addr);
            broker.send(response, request);
          }
        },
        CallRetry::kNever);
    const int64_t latency = steady_ms() - started;
    if (!s) {
      if (latency_fault_enable_) fault_.update(queue.broker_name, latency, true, steady_ms());
      SendResult r = failed(s.code(), s.remark());
      r.msg_id = msg_id;
      r.message_queue = queue;
      return r;
    }
    if (latency_fault_enable_) {
      bool broker_trouble = response.code == code::kSystemBusy || response.code == code::kServiceNotAvailable ||
                            response.code == code::kSystemError;
      fault_.update(queue.broker_name, latency, broker_trouble, steady_ms());
    }
    SendResult r = send_result_from_wire(response, queue, msg_id);
    // One result per message, each a copy of r made before r.batch fills.
    if (batch && r.ok()) r.batch = batch_results_from_wire(response, SendResult(r), request.messages);
    return r;
  }

  SendResult send_once(const wire::Message& message, const std::string& msg_id, const MessageQueue& queue,
                       const std::string& addr) {
    wire::SendRequest request = make_request(message, queue.queue_id);
    return send_request(request, msg_id, queue, addr);
  }

  SendResult send(const Message& message) {
    wire::Message wm;
    std::string msg_id;
    if (Status s = prepare(message, &wm, &msg_id); !s) return failed(s.code(), s.remark());
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(wm.topic, false, &info); !s) {
      SendResult r = failed(s.code(), "no route for topic " + wm.topic + ": " + s.remark());
      r.msg_id = msg_id;
      return r;
    }
    SendResult r = send_with_retry(
        *info, retry_times_, std::chrono::milliseconds(send_timeout_ms_),
        [&](const MessageQueue& queue, const std::string& addr) { return send_once(wm, msg_id, queue, addr); },
        availability());
    if (!r.ok()) invalidate_route(wm.topic);
    return r;
  }

  SendResult send_batch(const std::vector<Message>& messages) {
    if (messages.empty()) return failed(code::kIllegalArgument, "send_batch: the batch is empty");
    wire::SendRequest request;
    std::string first_id;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].topic() != messages[0].topic()) {
        return failed(code::kIllegalArgument, "send_batch: message " + std::to_string(i) + " has topic " +
                                                  messages[i].topic() + " but the batch's topic is " +
                                                  messages[0].topic() + "; a batch has one topic");
      }
      wire::Message wm;
      std::string msg_id;
      if (Status s = prepare(messages[i], &wm, &msg_id); !s) {
        return failed(s.code(), "send_batch: message " + std::to_string(i) + ": " + s.remark());
      }
      if (i == 0) {
        request = make_request(wm, -1);
        first_id = msg_id;
      } else {
        request.messages.push_back(std::move(wm));
      }
    }
    int64_t total = 0;
    for (const auto& m : request.messages) total += static_cast<int64_t>(m.body.size());
    if (total > max_message_size_) {
      return failed(code::kIllegalArgument, "send_batch: the bodies total " + std::to_string(total) +
                                                " bytes, over the max message size " +
                                                std::to_string(max_message_size_) + "; split the batch");
    }
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(request.topic, false, &info); !s) {
      return failed(s.code(), "no route for topic " + request.topic + ": " + s.remark());
    }
    SendResult r = send_with_retry(
        *info, retry_times_, std::chrono::milliseconds(send_timeout_ms_),
        [&](const MessageQueue& queue, const std::string& addr) {
          request.bornTimestamp = wall_clock_ms();
          return send_request(request, first_id, queue, addr, true);
        },
        availability());
    if (!r.ok()) invalidate_route(request.topic);
    return r;
  }

  SendResult send(const Message& message, const MessageQueueSelector& selector, const std::string& arg) {
    if (!selector) return failed(code::kIllegalArgument, "send: the message queue selector is empty");
    wire::Message wm;
    std::string msg_id;
    if (Status s = prepare(message, &wm, &msg_id); !s) return failed(s.code(), s.remark());
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(wm.topic, false, &info); !s) {
      return failed(s.code(), "no route for topic " + wm.topic + ": " + s.remark());
    }
    if (info->empty()) return failed(code::kNoRoute, "topic " + wm.topic + " has no writable queue");
    MessageQueue queue = selector(info->queues(), message, arg);
    if (std::find(info->queues().begin(), info->queues().end(), queue) == info->queues().end()) {
      return failed(code::kIllegalArgument, "the selector returned " + queue.to_string() +
                                                ", which is not a writable queue of topic " + wm.topic);
    }
    SendResult r = send_once(wm, msg_id, queue, info->broker_address(queue.broker_name));
    if (!r.ok()) invalidate_route(wm.topic);
    return r;
  }

  SendResult send(const Message& message, const MessageQueue& queue) {
    wire::Message wm;
    std::string msg_id;
    if (Status s = prepare(message, &wm, &msg_id); !s) return failed(s.code(), s.remark());
    if (queue.topic != wm.topic) {
      return failed(code::kIllegalArgument,
                    "message topic " + wm.topic + " differs from the queue's topic " + queue.topic);
    }
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(wm.topic, false, &info); !s) return failed(s.code(), s.remark());
    SendResult r = send_once(wm, msg_id, queue, info->broker_address(queue.broker_name));
    if (!r.ok()) invalidate_route(wm.topic);
    return r;
  }

  Status send_oneway(const Message& message) {
    wire::Message wm;
    std::string msg_id;
    if (Status s = prepare(message, &wm, &msg_id); !s) return s;
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(wm.topic, false, &info); !s) return s;
    if (info->empty()) return Status(code::kNoRoute, "topic " + wm.topic + " has no writable queue");
    MessageQueue queue = info->select_queue();
    wire::SendRequest request = make_request(wm, queue.queue_id);
    return client_->call_broker(info->broker_address(queue.broker_name),
                                [&](wire::BrokerServiceClient& broker) { broker.sendOneway(request); },
                                CallRetry::kNever);
  }

  Status cancel_scheduled(const std::string& topic, const std::string& msg_id) {
    if (!running()) return Status(code::kIllegalState, "producer " + group_ + " is not running; call start() first");
    if (topic.empty() || msg_id.empty()) {
      return Status(code::kIllegalArgument, "cancel_scheduled needs the topic and the message id of the send");
    }
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(topic, false, &info); !s) return s;
    std::set<std::string> addresses;
    for (const auto& q : info->queues()) addresses.insert(info->broker_address(q.broker_name));
    wire::CancelScheduledRequest request;
    request.topic = topic;
    request.msgId = msg_id;
    Status result(code::kQueryNotFound, "no broker of " + topic + " holds message " + msg_id + " pending");
    for (const auto& addr : addresses) {
      if (addr.empty()) continue;
      wire::BaseResponse response;
      Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.cancelScheduledMessage(response, request); });
      if (s && response.code == code::kSuccess) return Status::ok();
      if (s) s = Status(response.code, "cancelScheduledMessage on " + addr + ": " + response.remark);
      if (s.code() != code::kQueryNotFound || result.code() == code::kQueryNotFound) result = s;
    }
    return result;
  }

  // Runs on a sender thread of the accumulator: one request for the whole batch (one topic, in
  // submission order), retried on another queue like send_batch; one result per message.
  std::vector<SendResult> send_coalesced(std::vector<PendingSend>& batch) {
    const std::string topic = batch.front().message.topic;
    std::vector<SendResult> out;
    out.reserve(batch.size());
    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(topic, false, &info); !s) {
      for (const PendingSend& p : batch) {
        out.push_back(failed(s.code(), "no route for topic " + topic + ": " + s.remark()));
        out.back().msg_id = p.msg_id;
      }
      return out;
    }
    wire::SendRequest request = make_request(wire::Message(), -1);
    request.messages.clear();
    request.topic = topic;
    request.messages.reserve(batch.size());
    for (PendingSend& p : batch) request.messages.push_back(std::move(p.message));
    SendResult r = send_with_retry(
        *info, retry_times_, std::chrono::milliseconds(send_timeout_ms_),
        [&](const MessageQueue& queue, const std::string& addr) {
          request.bornTimestamp = wall_clock_ms();
          return send_request(request, batch.front().msg_id, queue, addr, true);
        },
        availability());
    if (!r.ok()) invalidate_route(topic);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (r.ok() && i < r.batch.size()) {
        out.push_back(std::move(r.batch[i]));
        continue;
      }
      SendResult item = failed(r.ok() ? code::kClientError : r.code,
                               r.ok() ? "the broker returned no result for this message" : r.remark);
      item.msg_id = batch[i].msg_id;
      item.message_queue = r.message_queue;
      out.push_back(std::move(item));
    }
    return out;
  }

  // Validates and converts on the calling thread; the send itself is coalesced with other
  // async sends of the topic (SendAccumulator). The callback runs exactly once: on a sender
  // thread, or on this thread when the send is refused (invalid, not running, queue full).
  void send_async(const Message& message, SendCallback callback) {
    std::shared_ptr<SendAccumulator> async_sends;
    {
      std::lock_guard lock(state_mu_);
      if (state_ == State::kRunning) async_sends = async_sends_;
    }
    if (async_sends == nullptr) {
      if (callback) callback(failed(code::kIllegalState, "producer " + group_ + " is not running"));
      return;
    }
    PendingSend pending;
    if (Status s = prepare_wire_message(message, max_message_size_, &pending.message, &pending.msg_id); !s) {
      if (callback) callback(failed(s.code(), s.remark()));
      return;
    }
    pending.bytes = pending.message.body.size() + pending.message.topic.size();
    for (const auto& [k, v] : pending.message.properties) pending.bytes += k.size() + v.size() + 2;
    // Delayed messages are stored by a plugin hook that cannot take them mixed with others.
    const auto& props = pending.message.properties;
    auto delay = props.find(property::kDelayTimeLevel);
    pending.solo = (delay != props.end() && !delay->second.empty() && delay->second != "0") ||
                   props.count(property::kTimerDeliverMs) || props.count(property::kTimerDelayMs) ||
                   props.count(property::kTimerDelaySec);
    pending.callback = std::move(callback);
    switch (async_sends->submit(pending)) {
      case SendAccumulator::Submit::kQueued:
        return;
      case SendAccumulator::Submit::kFull: {
        SendResult r = failed(code::kClientBusy, "async send queue is full (" + std::to_string(async_capacity_) +
                                                     " pending); slow down or raise set_async_queue_capacity");
        r.msg_id = pending.msg_id;
        if (pending.callback) pending.callback(r);
        return;
      }
      case SendAccumulator::Submit::kClosed:
        if (pending.callback) pending.callback(failed(code::kIllegalState, "producer " + group_ + " is shutting down"));
        return;
    }
  }
};

Producer::Producer(std::string group) : impl_(std::make_unique<Impl>(std::move(group))) {}
Producer::~Producer() {
  try {
    (void)impl_->shutdown();
  } catch (const std::exception& e) {
    client_log().error("producer {}: shutdown in destructor failed: {}", impl_->group_, e.what());
  }
}
void Producer::set_namesrv_addr(std::string addresses) { impl_->namesrv_addr_ = std::move(addresses); }
void Producer::set_send_timeout_ms(int timeout_ms) { impl_->send_timeout_ms_ = timeout_ms; }
void Producer::set_retry_times_when_send_failed(int times) { impl_->retry_times_ = times; }
void Producer::set_max_message_size(int64_t bytes) { impl_->max_message_size_ = bytes; }
void Producer::set_async_worker_threads(int threads) { impl_->async_threads_ = threads; }
void Producer::set_async_queue_capacity(int capacity) { impl_->async_capacity_ = capacity; }
void Producer::set_async_linger_ms(int linger_ms) { impl_->async_linger_ms_ = linger_ms; }
void Producer::set_async_batch_max_bytes(int64_t bytes) { impl_->async_batch_max_bytes_ = bytes; }
void Producer::set_async_batch_max_messages(int messages) { impl_->async_batch_max_messages_ = messages; }
void Producer::set_route_refresh_interval_ms(int interval_ms) { impl_->route_refresh_ms_ = interval_ms; }
void Producer::set_heartbeat_interval_ms(int interval_ms) { impl_->heartbeat_ms_ = interval_ms; }
void Producer::set_send_latency_fault_enable(bool enable) { impl_->latency_fault_enable_ = enable; }

Producer::MessageQueueSelector Producer::select_by_hash() {
  return [](const std::vector<MessageQueue>& queues, const Message&, const std::string& arg) {
    if (queues.empty()) return MessageQueue{};
    // Java's String.hashCode, so the choice is stable across processes, runs and languages.
    int32_t h = 0;
    for (unsigned char c : arg) h = static_cast<int32_t>(31u * static_cast<uint32_t>(h) + c);
    int64_t index = h < 0 ? -static_cast<int64_t>(h) : h;
    return queues[static_cast<size_t>(index % static_cast<int64_t>(queues.size()))];
  };
}
const std::string& Producer::group() const { return impl_->group_; }
Status Producer::start() {
  return guarded_status("producer start", [&] { return impl_->start(); });
}
Status Producer::shutdown() {
  return guarded_status("producer shutdown", [&] { return impl_->shutdown(); });
}
SendResult Producer::send(const Message& message) {
  try {
    return impl_->send(message);
  } catch (const std::exception& e) {
    return failed(code::kClientError, e.what());
  }
}
SendResult Producer::send(const Message& message, const MessageQueue& queue) {
  try {
    return impl_->send(message, queue);
  } catch (const std::exception& e) {
    return failed(code::kClientError, e.what());
  }
}
SendResult Producer::send_batch(const std::vector<Message>& messages) {
  try {
    return impl_->send_batch(messages);
  } catch (const std::exception& e) {
    return failed(code::kClientError, e.what());
  }
}
SendResult Producer::send(const Message& message, const MessageQueueSelector& selector, const std::string& arg) {
  try {
    return impl_->send(message, selector, arg);
  } catch (const std::exception& e) {
    return failed(code::kClientError, e.what());
  }
}
std::future<SendResult> Producer::send_future(const Message& message) {
  auto promise = std::make_shared<std::promise<SendResult>>();
  std::future<SendResult> future = promise->get_future();
  // send_async runs the callback exactly once (on a worker, or inline when refused).
  send_async(message, [promise](const SendResult& r) { promise->set_value(r); });
  return future;
}
void Producer::send_async(const Message& message, SendCallback callback) {
  try {
    impl_->send_async(message, std::move(callback));
  } catch (const std::exception& e) {
    client_log().error("send_async failed: {}", e.what());
  }
}
Status Producer::cancel_scheduled(const std::string& topic, const std::string& msg_id) {
  return guarded_status("cancel_scheduled", [&] { return impl_->cancel_scheduled(topic, msg_id); });
}
Status Producer::send_oneway(const Message& message) {
  try {
    return impl_->send_oneway(message);
  } catch (const std::exception& e) {
    return Status(code::kClientError, e.what());
  }
}

}  // namespace mq::client
