// TransactionProducer: PREPARED send, local transaction, end call, and check-back answers
// (see the header). Uses the producer's building blocks (routes, retry policy, wire
// conversion) over its own ClientInstance.
#include "mq/client/transaction_producer.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "client_instance.h"
#include "client_session.h"
#include "guarded_call.h"
#include "local_address.h"
#include "logging.h"
#include "scheduler.h"
#include "send_request.h"
#include "send_retry.h"
#include "thread_pool.h"
#include "topic_route.h"
#include "transaction_check_poller.h"
#include "wire_convert.h"

namespace mq::client {
namespace {

// Wire values (RocketMQ MessageSysFlag / property names).
constexpr int32_t kPreparedType = 0x4;
constexpr int32_t kCommitType = 0x8;
constexpr int32_t kRollbackType = 0xC;
constexpr int32_t kNotType = 0x0;
constexpr const char* kTranMsg = "TRAN_MSG";
constexpr const char* kProducerGroup = "PGROUP";

int32_t end_type(LocalTransactionState s) {
  switch (s) {
    case LocalTransactionState::kCommitMessage:
      return kCommitType;
    case LocalTransactionState::kRollbackMessage:
      return kRollbackType;
    case LocalTransactionState::kUnknow:
      return kNotType;
  }
  return kNotType;
}

// The commit-log offset inside an offset message id (32 hex: ip 8, port 8, offset 16).
bool commit_log_offset_of(const std::string& offset_msg_id, int64_t* out) {
  if (offset_msg_id.size() != 32) return false;
  uint64_t v = 0;
  for (size_t i = 16; i < 32; ++i) {
    char c = offset_msg_id[i];
    int n = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (n < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(n);
  }
  *out = static_cast<int64_t>(v);
  return true;
}

std::atomic<uint64_t> g_tx_producer_counter{0};

}  // namespace

const char* local_transaction_state_name(LocalTransactionState state) noexcept {
  switch (state) {
    case LocalTransactionState::kCommitMessage:
      return "COMMIT_MESSAGE";
    case LocalTransactionState::kRollbackMessage:
      return "ROLLBACK_MESSAGE";
    case LocalTransactionState::kUnknow:
      return "UNKNOW";
  }
  return "?";
}

class TransactionProducer::Impl {
 public:
  explicit Impl(std::string group)
      : group_(std::move(group)), client_id_(make_client_id("t", g_tx_producer_counter.fetch_add(1))) {}

  // Configuration (read-only after start()).
  std::string group_;
  std::string client_id_;
  std::string namesrv_addr_;
  std::shared_ptr<TransactionListener> listener_;
  int send_timeout_ms_ = 3000;
  int retry_times_ = 2;
  int64_t max_message_size_ = 4 << 20;
  int check_poll_timeout_ms_ = 15000;
  int check_threads_ = 2;
  int broker_refresh_ms_ = 30000;
  int heartbeat_ms_ = 30000;

  enum class State { kCreated, kRunning, kStopped };
  std::mutex state_mu_;
  State state_ = State::kCreated;
  std::unique_ptr<ClientInstance> client_;
  std::unique_ptr<ThreadPool> check_pool_;
  std::unique_ptr<TransactionCheckPoller> poller_;
  std::unique_ptr<Scheduler> scheduler_;
  std::string born_host_;

  std::mutex mu_;
  std::set<std::string> brokers_;  // master addresses: cluster masters + those seen in routes
  std::map<std::string, std::shared_ptr<const TopicPublishInfo>> routes_;

  Status start() {
    std::lock_guard lock(state_mu_);
    if (state_ != State::kCreated)
      return Status(code::kIllegalState, "transaction producer " + group_ + " was already started");
    if (group_.empty()) return Status(code::kIllegalArgument, "the producer group is empty; pass a group name");
    if (!listener_)
      return Status(code::kIllegalArgument,
                    "transaction producer " + group_ + " has no transaction listener; call set_transaction_listener()");
    if (send_timeout_ms_ <= 0) return Status(code::kIllegalArgument, "send timeout must be > 0 ms");
    if (Status s = open_send_client(namesrv_addr_, send_timeout_ms_, &client_); !s) return s;
    born_host_ = local_ip_string() + ":0";
    check_pool_ = std::make_unique<ThreadPool>("tx-check", std::max(1, check_threads_), 10000);
    poller_ = std::make_unique<TransactionCheckPoller>(
        group_, client_id_, check_poll_timeout_ms_,
        [this](const std::string& addr, const wire::TransactionCheck& check) { on_check(addr, check); });
    scheduler_ = std::make_unique<Scheduler>("tx-producer");
    scheduler_->schedule_every(0, broker_refresh_ms_, [this] { refresh_brokers(); });
    scheduler_->schedule_every(heartbeat_ms_, heartbeat_ms_, [this] { send_heartbeat(); });
    scheduler_->start();
    state_ = State::kRunning;
    client_log().info("transaction producer {} started", group_);
    return Status::ok();
  }

  Status shutdown() {
    if (!leave_running(state_mu_, &state_)) return Status::ok();
    scheduler_->stop();
    poller_->stop();
    check_pool_->shutdown(true);
    unregister_client(*client_, client_id_, brokers(), "transaction producer " + group_);
    client_->close_all();
    client_log().info("transaction producer {} shut down", group_);
    return Status::ok();
  }

  bool running() {
    std::lock_guard lock(state_mu_);
    return state_ == State::kRunning;
  }

  std::set<std::string> brokers() {
    std::lock_guard lock(mu_);
    return brokers_;
  }

  // Scheduler thread: every master of the name servers' clusters, so checks of halves sent
  // by an earlier process of this group are answered before this one sends anything.
  void refresh_brokers() {
    wire::ClusterInfoResponse info;
    std::set<std::string> masters;
    if (Status s = client_->fetch_cluster_info(&info); !s) {
      client_log().warn("transaction producer {}: cluster info: {}", group_, s.to_string());
    } else {
      for (const auto& [name, data] : info.brokers) {
        auto master = data.brokerAddrs.find(0);
        if (master != data.brokerAddrs.end() && !master->second.empty()) masters.insert(master->second);
      }
    }
    add_brokers(masters);
  }

  // Adds addresses; starts polls and heartbeats for new ones.
  void add_brokers(const std::set<std::string>& more) {
    std::set<std::string> all;
    bool added = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& a : more) added |= brokers_.insert(a).second;
      all = brokers_;
    }
    poller_->set_brokers(all);
    if (added && scheduler_) scheduler_->schedule(0, [this] { send_heartbeat(); });
  }

  void send_heartbeat() {
    send_producer_heartbeat(*client_, client_id_, group_, brokers(), "transaction producer " + group_);
  }

  Status publish_info(const std::string& topic, bool force, std::shared_ptr<const TopicPublishInfo>* out) {
    {
      std::lock_guard lock(mu_);
      auto it = routes_.find(topic);
      if (it != routes_.end() && !force) {
        *out = it->second;
        return Status::ok();
      }
    }
    wire::TopicRouteResponse route;
    if (Status s = client_->fetch_route(topic, &route); !s) return s;
    auto info = std::make_shared<const TopicPublishInfo>(TopicPublishInfo::from_route(topic, route));
    std::set<std::string> masters;
    for (const auto& [name, addr] : master_addresses(route)) masters.insert(addr);
    {
      std::lock_guard lock(mu_);
      routes_[topic] = info;
    }
    add_brokers(masters);
    *out = std::move(info);
    return Status::ok();
  }

  TransactionSendResult send_in_transaction(const Message& message, const std::string& arg) {
    TransactionSendResult out;
    auto fail = [&](int c, std::string remark) {
      out.code = c;
      out.remark = std::move(remark);
      out.status = SendStatus::kSendFailed;
      out.local_state = LocalTransactionState::kRollbackMessage;
      return out;
    };
    if (!running())
      return fail(code::kIllegalState, "transaction producer " + group_ + " is not running; call start() first");
    wire::Message wm;
    std::string msg_id;
    if (Status s = prepare_wire_message(message, max_message_size_, &wm, &msg_id); !s)
      return fail(s.code(), s.remark());
    wm.properties[kTranMsg] = "true";
    wm.properties[kProducerGroup] = group_;
    out.msg_id = msg_id;
    out.transaction_id = msg_id;

    std::shared_ptr<const TopicPublishInfo> info;
    if (Status s = publish_info(wm.topic, false, &info); !s)
      return fail(s.code(), "no route for topic " + wm.topic + ": " + s.remark());
    std::string broker_addr;
    SendResult sent = send_with_retry(*info, retry_times_, std::chrono::milliseconds(send_timeout_ms_),
                                      [&](const MessageQueue& queue, const std::string& addr) {
                                        wire::SendRequest request =
                                            make_send_request(group_, wm, queue.queue_id, born_host_, kPreparedType);
                                        SendResult r = send_to_queue(*client_, addr, request, msg_id, queue);
                                        if (r.ok()) broker_addr = addr;
                                        return r;
                                      });
    static_cast<SendResult&>(out) = sent;
    if (!sent.ok()) {
      (void)publish_info(wm.topic, true, &info);
      out.local_state = LocalTransactionState::kRollbackMessage;  // nothing stored: nothing to run
      return out;
    }
    LocalTransactionState state = LocalTransactionState::kUnknow;
    try {
      state = listener_->execute_local_transaction(message, arg);
    } catch (const std::exception& e) {
      client_log().warn("transaction producer {}: execute_local_transaction of {} threw: {}; outcome UNKNOW", group_,
                        msg_id, e.what());
    } catch (...) {
      client_log().warn("transaction producer {}: execute_local_transaction of {} threw; outcome UNKNOW", group_,
                        msg_id);
    }
    out.local_state = state;
    int64_t half_offset = 0;
    if (!commit_log_offset_of(sent.offset_msg_id, &half_offset)) {
      client_log().error(
          "transaction producer {}: the broker's id {} of half {} is not an offset id; the check-back "
          "settles it",
          group_, sent.offset_msg_id, msg_id);
      return out;
    }
    end_transaction(broker_addr, half_offset, sent.queue_offset, msg_id, msg_id, state, false);
    return out;
  }

  // Ends a transaction on the broker holding its half; failures are logged (check-back covers).
  void end_transaction(const std::string& addr, int64_t half_offset, int64_t half_queue_offset,
                       const std::string& msg_id, const std::string& transaction_id, LocalTransactionState state,
                       bool from_check) {
    wire::EndTransactionRequest request;
    request.producerGroup = group_;
    request.commitLogOffset = half_offset;
    request.tranStateTableOffset = half_queue_offset;
    request.msgId = msg_id;
    request.transactionId = transaction_id;
    request.commitOrRollback = end_type(state);
    request.fromTransactionCheck = from_check;
    wire::BaseResponse response;
    Status s = client_->call_broker(addr, [&](wire::BrokerServiceClient& b) { b.endTransaction(response, request); });
    if (!s || response.code != code::kSuccess)
      client_log().warn("transaction producer {}: endTransaction {} of {} on {} failed: {}; the check-back settles it",
                        group_, local_transaction_state_name(state), msg_id, addr,
                        s ? Status(response.code, response.remark).to_string() : s.to_string());
  }

  // Poller thread: hand the check to the check pool.
  void on_check(const std::string& addr, const wire::TransactionCheck& check) {
    bool queued = check_pool_->try_submit([this, addr, check] {
      MessageExt msg = from_wire(check.message);
      LocalTransactionState state = LocalTransactionState::kUnknow;
      try {
        state = listener_->check_local_transaction(msg);
      } catch (const std::exception& e) {
        client_log().warn("transaction producer {}: check_local_transaction of {} threw: {}", group_, msg.msg_id(),
                          e.what());
      } catch (...) {
        client_log().warn("transaction producer {}: check_local_transaction of {} threw", group_, msg.msg_id());
      }
      if (state == LocalTransactionState::kUnknow) return;  // asked again next round
      end_transaction(addr, check.message.commitLogOffset, check.message.queueOffset, msg.msg_id(), check.transactionId,
                      state, true);
    });
    if (!queued)
      client_log().warn("transaction producer {}: check queue full; the check of {} is dropped (asked again later)",
                        group_, check.transactionId);
  }
};

TransactionProducer::TransactionProducer(std::string group) : impl_(std::make_unique<Impl>(std::move(group))) {}
TransactionProducer::~TransactionProducer() {
  try {
    (void)impl_->shutdown();
  } catch (const std::exception& e) {
    client_log().error("transaction producer {}: shutdown in destructor failed: {}", impl_->group_, e.what());
  }
}
void TransactionProducer::set_namesrv_addr(std::string addresses) {
  impl_->namesrv_addr_ = std::move(addresses);
}
void TransactionProducer::set_transaction_listener(std::shared_ptr<TransactionListener> listener) {
  impl_->listener_ = std::move(listener);
}
void TransactionProducer::set_send_timeout_ms(int timeout_ms) {
  impl_->send_timeout_ms_ = timeout_ms;
}
void TransactionProducer::set_retry_times_when_send_failed(int times) {
  impl_->retry_times_ = times;
}
void TransactionProducer::set_max_message_size(int64_t bytes) {
  impl_->max_message_size_ = bytes;
}
void TransactionProducer::set_check_poll_timeout_ms(int timeout_ms) {
  impl_->check_poll_timeout_ms_ = timeout_ms;
}
void TransactionProducer::set_check_thread_count(int threads) {
  impl_->check_threads_ = threads;
}
void TransactionProducer::set_broker_refresh_interval_ms(int interval_ms) {
  impl_->broker_refresh_ms_ = interval_ms;
}
void TransactionProducer::set_heartbeat_interval_ms(int interval_ms) {
  impl_->heartbeat_ms_ = interval_ms;
}
const std::string& TransactionProducer::group() const {
  return impl_->group_;
}
Status TransactionProducer::start() {
  return guarded_status("transaction producer start", [&] { return impl_->start(); });
}
Status TransactionProducer::shutdown() {
  return guarded_status("transaction producer shutdown", [&] { return impl_->shutdown(); });
}
TransactionSendResult TransactionProducer::send_message_in_transaction(const Message& message, const std::string& arg) {
  try {
    return impl_->send_in_transaction(message, arg);
  } catch (const std::exception& e) {
    TransactionSendResult r;
    r.code = code::kClientError;
    r.remark = e.what();
    r.local_state = LocalTransactionState::kUnknow;
    return r;
  }
}

}  // namespace mq::client
