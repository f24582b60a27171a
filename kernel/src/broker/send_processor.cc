// SendProcessor: the send path (RocketMQ SendMessageProcessor), with the put pipeline's
// before-store and after-store hooks around MessageStore::put.
#include "broker/send_processor.h"

#include <chrono>
#include <memory>

#include "broker/unique_id.h"

namespace mq::kernel {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SendResponse failed(Status status, QueueId queue_id = 0) {
  SendResponse r;
  r.status = std::move(status);
  r.queue_id = queue_id;
  return r;
}

std::string transaction_type_name(int32_t type) {
  switch (type) {
    case kTransactionPreparedType:
      return "4 (PREPARED)";
    case kTransactionCommitType:
      return "8 (COMMIT)";
    default:
      return "C (ROLLBACK)";
  }
}

}  // namespace

int64_t properties_size(const Message& msg) {
  int64_t n = 0;
  for (const auto& [k, v] : msg.properties) n += static_cast<int64_t>(k.size() + v.size() + 2);
  return n;
}

SendProcessor::SendProcessor(const BrokerSettings& settings, MessageStore& store, TopicConfigManager& topics,
                             const BrokerPlugins& plugins, spdlog::logger& log)
    : settings_(settings),
      store_(store),
      topics_(topics),
      plugins_(plugins),
      after_store_(std::make_shared<const AfterStoreHooks>(plugins.after_store)),
      log_(log) {}

Status SendProcessor::check_plugins(const SendRequest& request) const {
  if (int32_t type = request.sys_flag & kTransactionTypeMask; type != 0 && !plugins_.transaction)
    return Status(Code::kRequestCodeNotSupported,
                  "transaction plugin not loaded: send to topic '" + request.topic +
                      "' has transaction sysFlag bits 0x" + transaction_type_name(type) +
                      "; add transaction to plugins= or send it as a normal message (sysFlag bits 2-3 clear)");
  if (!plugins_.schedule)
    for (const Message& m : request.messages)
      if (wants_scheduled_delivery(m))
        return Status(Code::kRequestCodeNotSupported,
                      "schedule plugin not loaded: a message to topic '" + request.topic +
                          "' asks for delayed delivery (DELAY or TIMER_* property); add schedule to plugins= or "
                          "send it without a delay");
  return Status::ok();
}

Status SendProcessor::run_before_store(std::vector<StoredMessage>& msgs) const {
  if (plugins_.before_store.empty()) return Status::ok();
  for (StoredMessage& m : msgs)
    for (const auto& hook : plugins_.before_store)
      if (Status st = hook->before_store(m); !st) return st;
  for (const StoredMessage& m : msgs)
    if (m.topic != msgs.front().topic || m.queue_id != msgs.front().queue_id)
      return Status::invalid("a batch to topic '" + msgs.front().topic +
                             "' mixes delayed, transactional and plain messages; send such messages one by one");
  return Status::ok();
}

void SendProcessor::finish(const std::shared_ptr<const AfterStoreHooks>& hooks, StoredRange stored,
                           SendResponse response, Reply<SendResponse> reply) {
  if (hooks->empty() || !response.status.is_ok()) return reply(std::move(response));
  auto held = std::make_shared<std::pair<SendResponse, Reply<SendResponse>>>(std::move(response), std::move(reply));
  run_after_store_hooks(hooks, stored, [held](Status st) {
    if (!st) held->first.status = std::move(st);  // the message stays stored: results are kept
    held->second(std::move(held->first));
  });
}

Result<TopicConfig> SendProcessor::resolve_topic(const std::string& topic) {
  if (auto found = topics_.find(topic)) return *found;
  if (!settings_.auto_create_topic_enable)
    return Status(Code::kTopicNotExist,
                  "topic '" + topic + "' does not exist on broker '" + settings_.identity.broker_name +
                      "'; create it with `mqadmin updateTopic -t " + topic + "` or set autoCreateTopicEnable=true");
  int32_t n = settings_.default_topic_queue_nums;
  if (n < 1 || n > kMaxQueueNums) {
    log_.error("defaultTopicQueueNums={} is out of range 1..{}; topics cannot be auto-created", n, kMaxQueueNums);
    return Status::system("cannot auto-create topic '" + topic + "': defaultTopicQueueNums is " + std::to_string(n) +
                          "; set it between 1 and " + std::to_string(kMaxQueueNums));
  }
  return topics_.create_if_absent(topic, n);
}

QueueId SendProcessor::next_queue(const std::string& topic, int32_t write_queue_nums) {
  std::lock_guard lock(rr_mu_);
  uint32_t n = round_robin_[topic]++;
  return static_cast<QueueId>(n % static_cast<uint32_t>(write_queue_nums));
}

void SendProcessor::process(SendRequest request, Reply<SendResponse> reply) {
  if (std::string why = validate_topic_name(request.topic); !why.empty()) return reply(failed(Status::invalid(why)));
  if (is_system_topic(request.topic))
    return reply(failed(Status(Code::kNoPermission, "topic '" + request.topic +
                                                        "' is a system topic written only by the broker's plugins; "
                                                        "send to your own topic (delays and transactions are "
                                                        "message properties and flags, not topics)")));
  if (request.messages.empty())
    return reply(failed(Status::invalid("send to topic '" + request.topic + "' carries no message")));
  // A prepared or rollback message gets no consume-queue unit, so storing one without the
  // transaction plugin (whose hook moves it to the half topic) would ack a message nobody
  // can ever consume; a delay without the schedule plugin would be delivered at once.
  if (Status st = check_plugins(request); !st) return reply(failed(std::move(st)));
  for (size_t i = 0; i < request.messages.size(); ++i) {
    const Message& m = request.messages[i];
    const std::string which = request.messages.size() > 1 ? " (message " + std::to_string(i) + " of the batch)" : "";
    if (!m.topic.empty() && m.topic != request.topic)
      return reply(failed(Status::invalid("message topic '" + m.topic + "' differs from the request topic '" +
                                          request.topic + "'" + which)));
    if (m.body.empty()) return reply(failed(Status(Code::kMessageIllegal, "message body is empty" + which)));
    int64_t size = static_cast<int64_t>(m.body.size()) + properties_size(m);
    if (size > settings_.max_message_size)
      return reply(failed(Status(Code::kMessageIllegal, "message of " + std::to_string(size) +
                                                            " bytes (body + properties) exceeds " + "maxMessageSize " +
                                                            std::to_string(settings_.max_message_size) + which)));
  }

  auto topic = resolve_topic(request.topic);
  if (!topic) return reply(failed(topic.status()));
  if ((topic->perm & kPermWrite) == 0)
    return reply(failed(Status(Code::kNoPermission, "topic '" + request.topic + "' is not writable on broker '" +
                                                        settings_.identity.broker_name + "' (perm " +
                                                        std::to_string(topic->perm) + ")")));
  QueueId queue_id = request.queue_id;
  if (queue_id == -1) {
    queue_id = next_queue(request.topic, topic->write_queue_nums);
  } else if (queue_id < 0 || queue_id >= topic->write_queue_nums) {
    return reply(failed(Status::invalid("queue id " + std::to_string(queue_id) + " is out of range for topic '" +
                                        request.topic + "'; valid ids are 0.." +
                                        std::to_string(topic->write_queue_nums - 1) + " or -1 (broker picks)")));
  }

  const HostAddress store_host = settings_.identity.broker_address;
  const int64_t born = request.born_timestamp_ms > 0 ? request.born_timestamp_ms : now_ms();
  std::vector<StoredMessage> msgs(request.messages.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    StoredMessage& s = msgs[i];
    static_cast<Message&>(s) = std::move(request.messages[i]);
    s.topic = request.topic;
    if (s.property(prop::kUniqKey).empty()) s.set_property(prop::kUniqKey, make_unique_message_id(store_host));
    if (!request.producer_group.empty() && s.property(prop::kProducerGroup).empty())
      s.set_property(prop::kProducerGroup, request.producer_group);
    s.queue_id = queue_id;
    s.sys_flag = request.sys_flag;
    s.born_timestamp_ms = born;
    s.born_host = request.born_host;
    s.store_host = store_host;
    s.reconsume_times = request.reconsume_times;
  }

  if (Status st = run_before_store(msgs); !st) return reply(failed(std::move(st), queue_id));

  // The store reads the messages in place (put_views): properties encoded once into one
  // buffer, no per-message copy or result string. The messages live in `sent`, shared with
  // the completion (which may run inside put_views or later) for the client ids (UNIQ_KEY).
  auto sent = std::make_shared<const std::vector<StoredMessage>>(std::move(msgs));
  std::string props;
  std::vector<size_t> props_end(sent->size());
  for (size_t i = 0; i < sent->size(); ++i) {
    // Checked here, on what is stored (after the hooks): a separator inside a name or value
    // would forge entries (e.g. a second REAL_TOPIC) in the encoded properties.
    if (std::string why = check_property_characters((*sent)[i]); !why.empty())
      return reply(
          failed(Status(Code::kMessageIllegal,
                        why + (sent->size() > 1 ? " (message " + std::to_string(i) + " of the batch)" : std::string())),
                 queue_id));
    append_encoded_properties((*sent)[i], &props);
    props_end[i] = props.size();
  }
  // Views only once `props` is complete (it may move while it grows).
  std::vector<MessageView> views(sent->size());
  for (size_t i = 0; i < sent->size(); ++i) {
    const size_t from = i == 0 ? 0 : props_end[i - 1];
    views[i] = view_of((*sent)[i], std::string_view(props).substr(from, props_end[i] - from));
  }
  store_.put_views(
      views, [hooks = after_store_, reply = std::move(reply), sent, queue_id, store_host](PutViewsResult put) mutable {
        SendResponse r;
        r.queue_id = queue_id;
        r.status = std::move(put.status);
        if (!is_appended(r.status)) return reply(std::move(r));
        if (put.positions.size() != sent->size()) {
          r.status = Status::system("store returned " + std::to_string(put.positions.size()) + " positions for " +
                                    std::to_string(sent->size()) + " messages");
          return reply(std::move(r));
        }
        r.results.reserve(put.positions.size());
        for (size_t i = 0; i < put.positions.size(); ++i) {
          const PutPosition& pos = put.positions[i];
          SendResultItem item;
          item.msg_id = std::string((*sent)[i].property(prop::kUniqKey));
          item.offset_msg_id = make_offset_msg_id(store_host, pos.commit_log_offset);
          item.queue_offset = pos.queue_offset;
          r.results.push_back(std::move(item));
        }
        StoredRange stored{put.positions.front().commit_log_offset,
                           put.positions.back().commit_log_offset + put.positions.back().wrote_bytes};
        finish(hooks, stored, std::move(r), std::move(reply));
      });
}

}  // namespace mq::kernel
