// SendProcessor: the send path (RocketMQ SendMessageProcessor), with the put pipeline's
// before-store and after-store hooks around MessageStore::put.
#include "broker/send_processor.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "broker/unique_id.h"
#include "mq/schedule_service.h"

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

// What the send path reads from one message's encoded properties, found in one pass (the
// last entry of a name wins, as decoding keeps the last).
struct PropertyFacts {
  std::string_view uniq_key, producer_group, delay_level, timer_deliver_ms, timer_delay_ms, timer_delay_sec;

  explicit PropertyFacts(std::string_view encoded) {
    // Well-formed: parse_encoded_batch checked it.
    (void)record::for_each_encoded_property(encoded, [this](std::string_view name, std::string_view value) {
      if (name == prop::kUniqKey) {
        uniq_key = value;
      } else if (name == prop::kProducerGroup) {
        producer_group = value;
      } else if (name == prop::kDelayLevel) {
        delay_level = value;
      } else if (name == prop::kTimerDeliverMs) {
        timer_deliver_ms = value;
      } else if (name == prop::kTimerDelayMs) {
        timer_delay_ms = value;
      } else if (name == prop::kTimerDelaySec) {
        timer_delay_sec = value;
      }
    });
  }

  bool wants_delay() const {
    if (delay_level.empty() && timer_deliver_ms.empty() && timer_delay_ms.empty() && timer_delay_sec.empty())
      return false;  // the common case, without asking for each name
    return wants_scheduled_delivery_by([this](std::string_view name) {
      if (name == prop::kDelayLevel) return delay_level;
      if (name == prop::kTimerDeliverMs) return timer_deliver_ms;
      if (name == prop::kTimerDelayMs) return timer_delay_ms;
      return name == prop::kTimerDelaySec ? timer_delay_sec : std::string_view();
    });
  }
};

// The producer group the broker adds as PGROUP to each message of `request` when the message
// has none: a PREPARED (transactional) message's check-backs go to that group. Other messages
// carry no PGROUP unless sent with one, as with RocketMQ's producers, which set it only on
// transactional messages. Empty: nothing to add.
std::string_view group_to_add(const SendRequest& request) {
  return (request.sys_flag & kTransactionTypeMask) == kTransactionPreparedType ? request.producer_group
                                                                               : std::string_view();
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

Status SendProcessor::check_plugins(const SendRequest& request, bool wants_delay) const {
  if (int32_t type = request.sys_flag & kTransactionTypeMask; type != 0 && !plugins_.transaction)
    return Status(Code::kRequestCodeNotSupported,
                  "transaction plugin not loaded: send to topic '" + request.topic +
                      "' has transaction sysFlag bits 0x" + transaction_type_name(type) +
                      "; add transaction to plugins= or send it as a normal message (sysFlag bits 2-3 clear)");
  if (wants_delay && !plugins_.schedule)
    return Status(Code::kRequestCodeNotSupported,
                  "schedule plugin not loaded: a message to topic '" + request.topic +
                      "' asks for delayed delivery (DELAY or TIMER_* property); add schedule to plugins= or "
                      "send it without a delay");
  return Status::ok();
}

Status SendProcessor::check_size(size_t body_size, int64_t properties_bytes, size_t index, size_t count) const {
  auto which = [&] { return count > 1 ? " (message " + std::to_string(index) + " of the batch)" : std::string(); };
  if (body_size == 0) return Status(Code::kMessageIllegal, "message body is empty" + which());
  const int64_t size = static_cast<int64_t>(body_size) + properties_bytes;
  if (size > settings_.max_message_size)
    return Status(Code::kMessageIllegal, "message of " + std::to_string(size) + " bytes (body + properties) exceeds " +
                                             "maxMessageSize " + std::to_string(settings_.max_message_size) + which());
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

Result<QueueId> SendProcessor::pick_queue(const SendRequest& request) {
  auto topic = resolve_topic(request.topic);
  if (!topic) return topic.status();
  if ((topic->perm & kPermWrite) == 0)
    return Status(Code::kNoPermission, "topic '" + request.topic + "' is not writable on broker '" +
                                           settings_.identity.broker_name + "' (perm " + std::to_string(topic->perm) +
                                           ")");
  if (request.queue_id == -1) return next_queue(request.topic, topic->write_queue_nums);
  if (request.queue_id < 0 || request.queue_id >= topic->write_queue_nums)
    return Status::invalid("queue id " + std::to_string(request.queue_id) + " is out of range for topic '" +
                           request.topic + "'; valid ids are 0.." + std::to_string(topic->write_queue_nums - 1) +
                           " or -1 (broker picks)");
  return request.queue_id;
}

bool SendProcessor::stored_all(PutViewsResult& put, size_t count, SendResponse& response) {
  response.status = std::move(put.status);
  if (!is_appended(response.status)) return false;
  if (put.positions.size() != count) {
    response.status = Status::system("store returned " + std::to_string(put.positions.size()) + " positions for " +
                                     std::to_string(count) + " messages");
    return false;
  }
  return true;
}

Status SendProcessor::fill_batch_result(const std::vector<PutPosition>& positions, HostAddress store_host,
                                        std::vector<std::pair<int32_t, std::string>> assigned, SendResponse& response) {
  SendBatchResult b;
  b.first_queue_offset = positions.front().queue_offset;
  b.commit_log_offsets.reserve(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    // A batch is stored consecutively in one queue, so the reply names only the first offset.
    if (positions[i].queue_offset.value() != b.first_queue_offset.value() + static_cast<int64_t>(i))
      return Status::system("store put message " + std::to_string(i) + " of a batch at queue offset " +
                            std::to_string(positions[i].queue_offset.value()) + ", not " +
                            std::to_string(b.first_queue_offset.value() + static_cast<int64_t>(i)));
    b.commit_log_offsets.push_back(positions[i].commit_log_offset);
  }
  b.store_host = store_host;
  b.assigned_msg_ids = std::move(assigned);
  response.batch = std::move(b);
  return Status::ok();
}

StoredRange SendProcessor::range_of(const std::vector<PutPosition>& positions) {
  return StoredRange{positions.front().commit_log_offset,
                     positions.back().commit_log_offset + positions.back().wrote_bytes};
}

void SendProcessor::reply_batch(const std::shared_ptr<const AfterStoreHooks>& hooks, PutViewsResult put, size_t count,
                                QueueId queue_id, HostAddress store_host,
                                std::vector<std::pair<int32_t, std::string>> assigned, Reply<SendResponse> reply) {
  SendResponse r;
  r.queue_id = queue_id;
  if (!stored_all(put, count, r)) return reply(std::move(r));
  if (Status st = fill_batch_result(put.positions, store_host, std::move(assigned), r); !st) {
    r.status = std::move(st);
    return reply(std::move(r));
  }
  finish(hooks, range_of(put.positions), std::move(r), std::move(reply));
}

void SendProcessor::process(SendRequest request, Reply<SendResponse> reply) {
  if (std::string why = validate_topic_name(request.topic); !why.empty()) return reply(failed(Status::invalid(why)));
  if (is_system_topic(request.topic))
    return reply(failed(Status(Code::kNoPermission, "topic '" + request.topic +
                                                        "' is a system topic written only by the broker's plugins; "
                                                        "send to your own topic (delays and transactions are "
                                                        "message properties and flags, not topics)")));
  const bool encoded = !request.encoded_messages.empty();
  if (encoded) {
    if (!request.messages.empty())
      return reply(failed(Status::invalid("send to topic '" + request.topic +
                                          "' carries both messages and encodedMessages; send one of them")));
    std::vector<batch::EncodedMessage> parsed;
    if (std::string why = batch::parse_encoded_batch(request.encoded_messages, &parsed); !why.empty())
      return reply(failed(Status(Code::kMessageIllegal, "send to topic '" + request.topic + "': " + why)));
    if (plugins_.before_store.empty()) return process_encoded(request, parsed, std::move(reply));
    // Before-store hooks (delays, transactions, a slave's refusal) work on messages: decode
    // them and take the message path, answering in batch form.
    request.messages.resize(parsed.size());
    for (size_t i = 0; i < parsed.size(); ++i) {
      request.messages[i].flag = parsed[i].flag;
      request.messages[i].body = parsed[i].body;
      decode_encoded_properties(parsed[i].properties, &request.messages[i]);  // checked by parse_encoded_batch
    }
    std::string().swap(request.encoded_messages);
  }
  if (request.messages.empty())
    return reply(failed(Status::invalid("send to topic '" + request.topic + "' carries no message")));
  // A prepared or rollback message gets no consume-queue unit, so storing one without the
  // transaction plugin (whose hook moves it to the half topic) would ack a message nobody
  // can ever consume; a delay without the schedule plugin would be delivered at once.
  const bool wants_delay = std::any_of(request.messages.begin(), request.messages.end(),
                                       [](const Message& m) { return wants_scheduled_delivery(m); });
  if (Status st = check_plugins(request, wants_delay); !st) return reply(failed(std::move(st)));
  for (size_t i = 0; i < request.messages.size(); ++i) {
    const Message& m = request.messages[i];
    if (!m.topic.empty() && m.topic != request.topic)
      return reply(failed(Status::invalid(
          "message topic '" + m.topic + "' differs from the request topic '" + request.topic + "'" +
          (request.messages.size() > 1 ? " (message " + std::to_string(i) + " of the batch)" : std::string()))));
    if (Status st = check_size(m.body.size(), properties_size(m), i, request.messages.size()); !st)
      return reply(failed(std::move(st)));
  }
  auto queue = pick_queue(request);
  if (!queue) return reply(failed(queue.status()));
  const QueueId queue_id = *queue;

  const HostAddress store_host = settings_.identity.broker_address;
  const int64_t born = request.born_timestamp_ms > 0 ? request.born_timestamp_ms : now_ms();
  std::vector<StoredMessage> msgs(request.messages.size());
  std::vector<std::pair<int32_t, std::string>> assigned;  // UNIQ_KEYs given here (batch form only)
  const std::string_view group = group_to_add(request);
  for (size_t i = 0; i < msgs.size(); ++i) {
    StoredMessage& s = msgs[i];
    static_cast<Message&>(s) = std::move(request.messages[i]);
    s.topic = request.topic;
    if (s.property(prop::kUniqKey).empty()) {
      s.set_property(prop::kUniqKey, make_unique_message_id(store_host));
      if (encoded) assigned.emplace_back(static_cast<int32_t>(i), std::string(s.property(prop::kUniqKey)));
    }
    if (!group.empty() && s.property(prop::kProducerGroup).empty())
      s.set_property(prop::kProducerGroup, std::string(group));
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
  store_.put_views(views, [hooks = after_store_, reply = std::move(reply), sent, queue_id, store_host, encoded,
                           assigned = std::move(assigned)](PutViewsResult put) mutable {
    if (encoded)
      return reply_batch(hooks, std::move(put), sent->size(), queue_id, store_host, std::move(assigned),
                         std::move(reply));
    SendResponse r;
    r.queue_id = queue_id;
    if (!stored_all(put, sent->size(), r)) return reply(std::move(r));
    r.results.reserve(put.positions.size());
    for (size_t i = 0; i < put.positions.size(); ++i) {
      const PutPosition& pos = put.positions[i];
      SendResultItem item;
      item.msg_id = std::string((*sent)[i].property(prop::kUniqKey));
      item.offset_msg_id = make_offset_msg_id(store_host, pos.commit_log_offset);
      item.queue_offset = pos.queue_offset;
      r.results.push_back(std::move(item));
    }
    finish(hooks, range_of(put.positions), std::move(r), std::move(reply));
  });
}

void SendProcessor::process_encoded(const SendRequest& request, const std::vector<batch::EncodedMessage>& parsed,
                                    Reply<SendResponse> reply) {
  bool wants_delay = false;
  std::vector<PropertyFacts> facts;
  facts.reserve(parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    const batch::EncodedMessage& m = parsed[i];
    if (Status st = check_size(m.body.size(), static_cast<int64_t>(m.properties.size()), i, parsed.size()); !st)
      return reply(failed(std::move(st)));
    const PropertyFacts& f = facts.emplace_back(m.properties);
    wants_delay = wants_delay || f.wants_delay();
  }
  if (Status st = check_plugins(request, wants_delay); !st) return reply(failed(std::move(st)));
  auto queue = pick_queue(request);
  if (!queue) return reply(failed(queue.status()));
  const QueueId queue_id = *queue;

  // Each message's properties as sent (well-formed: parse_encoded_batch checked them), plus
  // the UNIQ_KEY and PGROUP the message path would add, into one buffer.
  const HostAddress store_host = settings_.identity.broker_address;
  std::string props;
  size_t props_bytes = 0;
  for (const batch::EncodedMessage& m : parsed) props_bytes += m.properties.size();
  const std::string_view group = group_to_add(request);
  const size_t added_per_message = 48 + (group.empty() ? 0 : 16 + group.size());
  props.reserve(props_bytes + parsed.size() * added_per_message);  // UNIQ_KEY (42 bytes), PGROUP
  std::vector<size_t> props_end(parsed.size());
  std::vector<std::pair<int32_t, std::string>> assigned;
  for (size_t i = 0; i < parsed.size(); ++i) {
    props.append(parsed[i].properties);
    if (facts[i].uniq_key.empty()) {
      std::string id = make_unique_message_id(store_host);
      append_encoded_property(prop::kUniqKey, id, &props);
      assigned.emplace_back(static_cast<int32_t>(i), std::move(id));
    }
    if (!group.empty() && facts[i].producer_group.empty()) append_encoded_property(prop::kProducerGroup, group, &props);
    props_end[i] = props.size();
  }
  const int64_t born = request.born_timestamp_ms > 0 ? request.born_timestamp_ms : now_ms();
  std::vector<MessageView> views(parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    MessageView& v = views[i];
    const size_t from = i == 0 ? 0 : props_end[i - 1];
    v.topic = request.topic;
    v.queue_id = queue_id;
    v.flag = parsed[i].flag;
    v.sys_flag = request.sys_flag;
    v.body = parsed[i].body;
    v.properties = std::string_view(props).substr(from, props_end[i] - from);
    v.born_timestamp_ms = born;
    v.born_host = request.born_host;
    v.store_host = store_host;
    v.reconsume_times = request.reconsume_times;
  }
  // The views read the caller's request.encoded_messages (what `parsed` views) and `props`,
  // both alive until put_views returns; the completion holds only values.
  store_.put_views(views, [hooks = after_store_, reply = std::move(reply), count = parsed.size(), queue_id, store_host,
                           assigned = std::move(assigned)](PutViewsResult put) mutable {
    reply_batch(hooks, std::move(put), count, queue_id, store_host, std::move(assigned), std::move(reply));
  });
}

}  // namespace mq::kernel
