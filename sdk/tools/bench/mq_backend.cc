// Raw-Thrift and SDK back ends for our broker.
#include "mq_backend.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "message_id.h"
#include "mq/client/message.h"
#include "mq/client/producer.h"
#include "mq/client/pull_consumer.h"
#include "mq/client/push_consumer.h"
#include "mq/encoded_batch.h"
#include "mq/message.h"
#include "mq/message_record.h"
#include "mq/wire/client_channel.h"

#include <thrift/TApplicationException.h>

#include "driver.h"

namespace mq::bench {
namespace {

using mq::wire::ClientChannel;

// coalesce: pipelined calls leave in one write when the channel next waits for a reply, as
// hiredis sends what redisAppendCommand queued (the Redis back end), so both clients pay
// the same system calls per call.
std::unique_ptr<ClientChannel> connect(const std::string& address, std::string* error, bool coalesce) {
  try {
    wire::ChannelOptions co;
    co.max_frame_bytes = 256LL << 20;
    co.coalesce_writes = coalesce;
    return ClientChannel::connect(address, co);
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

wire::SendRequest make_request(const std::string& topic, int queue, const std::vector<std::string>& bodies) {
  wire::SendRequest req;
  req.producerGroup = "mqbench";
  req.topic = topic;
  req.queueId = queue;
  req.bornHost = "127.0.0.1:0";
  req.bornTimestamp =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // Each message carries its UNIQ_KEY, made here as RocketMQ's producers (and our SDK) do.
  auto& ids = client::MessageIdGenerator::instance();
  if (bodies.size() == 1) {
    req.messages.resize(1);
    req.messages[0].topic = topic;
    req.messages[0].body = bodies[0];
    req.messages[0].properties[client::property::kUniqKey] = ids.next();
    return req;
  }
  // A batch goes as one encoded body, as RocketMQ clients send a MessageBatch.
  constexpr size_t kIdProperty = 8 + 1 + 32 + 1;  // "UNIQ_KEY" \x01 <32 hex> \x02
  size_t bytes = 0;
  for (const std::string& body : bodies) bytes += body.size() + batch::kMessageOverhead + kIdProperty;
  req.encodedMessages.reserve(bytes);
  std::string properties;
  constexpr size_t kIdLength = client::MessageIdGenerator::kIdLength;
  thread_local std::string batch_ids;
  batch_ids.resize(bodies.size() * kIdLength);
  ids.next_into(batch_ids.data(), bodies.size());  // one update of the shared counter per batch
  for (size_t i = 0; i < bodies.size(); ++i) {
    properties.clear();
    append_encoded_property(client::property::kUniqKey, std::string_view(batch_ids).substr(i * kIdLength, kIdLength),
                            &properties);
    batch::append_encoded_message(0, bodies[i], properties, &req.encodedMessages);
  }
  req.__isset.encodedMessages = true;
  return req;
}

// Pipelined: requests are written at once; responses are read in order (the broker answers a
// connection's requests in order), at most `window` outstanding.
class RawSender final : public Sender {
 public:
  RawSender(std::unique_ptr<ClientChannel> channel, std::string topic, int window)
      : channel_(std::move(channel)), topic_(std::move(topic)), window_(window) {}

  bool send_sync(int queue, const std::vector<std::string>& bodies, std::string* error) override {
    drain();
    try {
      wire::SendResponse resp;
      channel_->broker().send(resp, make_request(topic_, queue, bodies));
      if (resp.code != 0) *error = "send: code " + std::to_string(resp.code) + " " + resp.remark;
      return resp.code == 0;
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
  }

  void send_async(int queue, const std::vector<std::string>& bodies, int64_t tag_ns, const SendDone& done) override {
    if (static_cast<int>(pending_.size()) >= window_) complete_one(done);
    try {
      channel_->broker().send_send(make_request(topic_, queue, bodies));
      pending_.push_back({tag_ns, static_cast<int>(bodies.size())});
      done_ = &done;
    } catch (const std::exception&) {
      done(false, tag_ns, static_cast<int>(bodies.size()));
    }
  }

  bool send_oneway(int queue, const std::vector<std::string>& bodies, std::string* error) override {
    try {
      channel_->broker().sendOneway(make_request(topic_, queue, bodies));
      return true;
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
  }

  void drain() override {
    while (!pending_.empty()) complete_one(*done_);
    flush();  // oneway calls have no reply that would send them
  }

  void flush() override {
    try {
      channel_->flush_writes();
    } catch (const std::exception&) {
      // The calls held fail when their replies are read (or the next call fails).
    }
  }

 private:
  void complete_one(const SendDone& done) {
    auto [tag, count] = pending_.front();
    pending_.pop_front();
    bool ok = false;
    try {
      wire::SendResponse resp;
      channel_->broker().recv_send(resp);
      ok = resp.code == 0;
    } catch (const std::exception&) {
      ok = false;
    }
    done(ok, tag, count);
  }

  std::unique_ptr<ClientChannel> channel_;
  std::string topic_;
  int window_;
  std::deque<std::pair<int64_t, int>> pending_;
  const SendDone* done_ = nullptr;  // the driver's callback outlives the sender
};

// One thread sweeping every queue with non-blocking pulls (256 messages, 8 MiB per pull),
// the pulls of one sweep pipelined on the connection (all written, then all replies read),
// as the Redis back end pipelines one XRANGE per stream per sweep. The broker may answer
// pipelined pulls out of order (a pull may complete on another thread) and the generated
// client numbers every call 0, so each pull carries its queue index as its seqid and
// replies are matched by it.
class RawReceiver final : public Receiver {
 public:
  RawReceiver(std::unique_ptr<ClientChannel> channel, std::string topic, std::string group,
              std::vector<int64_t> offsets)
      : channel_(std::move(channel)),
        topic_(std::move(topic)),
        group_(std::move(group)),
        offsets_(std::move(offsets)) {}

  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    wire::PullRequest req;
    req.consumerGroup = group_;
    req.topic = topic_;
    req.maxMsgs = 256;
    req.maxBytes = 8 << 20;
    req.suspendTimeoutMs = 0;
    req.__set_wantRecords(true);
    wire::PullResponse resp;
    while (!stop.load(std::memory_order_relaxed)) {
      bool any = false;
      size_t sent = 0;
      try {
        for (; sent < offsets_.size(); ++sent) {
          req.queueId = static_cast<int32_t>(sent);
          req.queueOffset = offsets_[sent];
          send_pull(req, static_cast<int32_t>(sent));
        }
        for (size_t i = 0; i < sent; ++i) {
          resp = wire::PullResponse();  // read() leaves optional fields it does not see as they were
          const size_t q = recv_pull(resp);
          if (q >= offsets_.size()) {
            sink.error("pull: reply with unknown seqid " + std::to_string(q));
            continue;
          }
          if (resp.code == 0) {
            any = deliver(resp, sink) || any;
            offsets_[q] = resp.nextBeginOffset;
          } else if (resp.code == 21 || resp.code == 20) {
            offsets_[q] = resp.nextBeginOffset;
          } else if (resp.code != 19) {
            sink.error("pull: code " + std::to_string(resp.code) + " " + resp.remark);
          }
        }
      } catch (const std::exception& e) {
        sink.error(std::string("pull: ") + e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!any) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

 private:
  // Passes every body of a found pull to the sink, read in place from the message records
  // (or from `messages` when the broker sent those). Returns whether there was any.
  static bool deliver(const wire::PullResponse& resp, const ReceiveSink& sink) {
    if (!resp.__isset.records) {
      for (const auto& m : resp.messages) sink.message(m.body);
      return !resp.messages.empty();
    }
    std::string_view rest = resp.records;
    bool any = false;
    while (!rest.empty()) {
      record::RecordView r;
      if (std::string why = record::parse_record(rest, &r); !why.empty()) {
        sink.error("pull: malformed message record: " + why);
        break;
      }
      sink.message(r.body);
      any = true;
      rest.remove_prefix(static_cast<size_t>(r.size));
    }
    return any;
  }

  // The generated send_pull / recv_pull with a caller-chosen seqid.
  void send_pull(const wire::PullRequest& req, int32_t seqid) {
    auto out = channel_->broker().getOutputProtocol();
    out->writeMessageBegin("pull", apache::thrift::protocol::T_CALL, seqid);
    wire::BrokerService_pull_pargs args;
    args.request = &req;
    args.write(out.get());
    out->writeMessageEnd();
    out->getTransport()->writeEnd();
    out->getTransport()->flush();
  }
  // Returns the reply's seqid.
  size_t recv_pull(wire::PullResponse& resp) {
    auto in = channel_->broker().getInputProtocol();
    std::string name;
    apache::thrift::protocol::TMessageType type;
    int32_t seqid = 0;
    in->readMessageBegin(name, type, seqid);
    if (type == apache::thrift::protocol::T_EXCEPTION) {
      apache::thrift::TApplicationException x;
      x.read(in.get());
      in->readMessageEnd();
      in->getTransport()->readEnd();
      throw x;
    }
    wire::BrokerService_pull_presult result;
    result.success = &resp;
    result.read(in.get());
    in->readMessageEnd();
    in->getTransport()->readEnd();
    if (name != "pull" || !result.__isset.success)
      throw apache::thrift::TApplicationException(apache::thrift::TApplicationException::MISSING_RESULT,
                                                  "pull: unexpected reply '" + name + "'");
    return static_cast<size_t>(seqid);
  }

  std::unique_ptr<ClientChannel> channel_;
  std::string topic_;
  std::string group_;
  std::vector<int64_t> offsets_;
};

class SdkSender final : public Sender {
 public:
  SdkSender(std::unique_ptr<client::Producer> producer, std::string topic, int window)
      : producer_(std::move(producer)), topic_(std::move(topic)), window_(window) {}
  ~SdkSender() override { producer_->shutdown(); }

  bool send_sync(int, const std::vector<std::string>& bodies, std::string* error) override {
    client::SendResult r;
    if (bodies.size() == 1) {
      r = producer_->send(client::Message(topic_, bodies[0]));
    } else {
      std::vector<client::Message> batch;
      batch.reserve(bodies.size());
      for (const auto& b : bodies) batch.emplace_back(topic_, b);
      r = producer_->send_batch(batch);
    }
    if (!r.ok()) *error = "send: code " + std::to_string(r.code) + " " + r.remark;
    return r.ok();
  }

  // The SDK has no async batch: a batch is sent synchronously.
  void send_async(int queue, const std::vector<std::string>& bodies, int64_t tag_ns, const SendDone& done) override {
    if (bodies.size() != 1) {
      std::string error;
      done(send_sync(queue, bodies, &error), tag_ns, static_cast<int>(bodies.size()));
      return;
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < window_; });
      ++in_flight_;
    }
    producer_->send_async(client::Message(topic_, bodies[0]), [this, &done, tag_ns](const client::SendResult& r) {
      done(r.ok(), tag_ns, 1);
      std::lock_guard lock(mu_);
      --in_flight_;
      cv_.notify_all();
    });
  }

  bool send_oneway(int, const std::vector<std::string>& bodies, std::string* error) override {
    bool ok = true;
    for (const auto& b : bodies) {
      client::Status st = producer_->send_oneway(client::Message(topic_, b));
      if (!st.is_ok()) {
        *error = st.to_string();
        ok = false;
      }
    }
    return ok;
  }

  void drain() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

 private:
  std::unique_ptr<client::Producer> producer_;
  std::string topic_;
  int window_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
};

class SdkPullReceiver final : public Receiver {
 public:
  SdkPullReceiver(std::unique_ptr<client::PullConsumer> consumer, std::vector<client::MessageQueue> queues,
                  std::vector<int64_t> offsets)
      : consumer_(std::move(consumer)), queues_(std::move(queues)), offsets_(std::move(offsets)) {}
  ~SdkPullReceiver() override { consumer_->shutdown(); }

  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    while (!stop.load(std::memory_order_relaxed)) {
      bool any = false;
      for (size_t i = 0; i < queues_.size() && !stop.load(std::memory_order_relaxed); ++i) {
        client::PullResult r = consumer_->pull(queues_[i], "*", offsets_[i], 256);
        if (r.status == client::PullResult::PullStatus::kError) {
          sink.error("pull " + queues_[i].to_string() + ": code " + std::to_string(r.code) + " " + r.remark);
          continue;
        }
        for (const auto& m : r.messages) sink.message(m.body());
        any = any || !r.messages.empty();
        if (r.next_begin_offset >= 0) offsets_[i] = r.next_begin_offset;
      }
      if (!any) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

 private:
  std::unique_ptr<client::PullConsumer> consumer_;
  std::vector<client::MessageQueue> queues_;
  std::vector<int64_t> offsets_;
};

class SdkPushReceiver final : public Receiver {
 public:
  SdkPushReceiver(std::string namesrv, std::string topic, std::string group, bool from_first)
      : namesrv_(std::move(namesrv)), topic_(std::move(topic)), group_(std::move(group)), from_first_(from_first) {}

  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    client::PushConsumer consumer(group_);
    consumer.set_namesrv_addr(namesrv_);
    consumer.subscribe(topic_, "*");
    consumer.set_consume_from_where(from_first_ ? client::ConsumeFromWhere::kFirstOffset
                                                : client::ConsumeFromWhere::kLastOffset);
    consumer.set_pull_batch_size(256);
    consumer.set_consume_message_batch_max_size(256);
    consumer.set_pull_threshold_for_queue(100000);
    consumer.set_pull_suspend_timeout_ms(1000);
    consumer.register_message_listener([&sink](const std::vector<client::MessageExt>& msgs) {
      for (const auto& m : msgs) sink.message(m.body());
      return client::ConsumeStatus::kConsumeSuccess;
    });
    client::Status st = consumer.start();
    if (!st.is_ok()) {
      sink.error("push consumer start: " + st.to_string());
      return;
    }
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    consumer.shutdown();
  }

 private:
  std::string namesrv_;
  std::string topic_;
  std::string group_;
  bool from_first_;
};

class MqBackend final : public Backend {
 public:
  explicit MqBackend(BenchOptions o) : o_(std::move(o)) {
    if (o_.group.empty()) o_.group = "mqbench_" + std::to_string(now_ns());
  }

  std::string name() const override { return "mq-" + o_.backend; }

  bool prepare(const BenchOptions&, std::string* error) override {
    if (o_.server.empty()) {
      *error = "--server host:port (the broker) is required";
      return false;
    }
    if (o_.backend == "sdk" && o_.namesrv.empty()) {
      *error = "--backend sdk needs --namesrv host:port";
      return false;
    }
    auto channel = connect(o_.server, error, /*coalesce=*/false);
    if (!channel) return false;
    try {
      if (o_.queues > 0) {
        wire::TopicConfig tc;
        tc.topicName = o_.topic;
        tc.readQueueNums = o_.queues;
        tc.writeQueueNums = o_.queues;
        wire::BaseResponse r;
        channel->broker().createTopic(r, tc);
        if (r.code != 0) {
          *error = "createTopic " + o_.topic + ": code " + std::to_string(r.code) + " " + r.remark;
          return false;
        }
        if (o_.backend == "sdk") std::this_thread::sleep_for(std::chrono::milliseconds(300));  // registration
      } else {
        wire::TopicListResponse tl;
        channel->broker().getTopicList(tl);
        for (const auto& t : tl.topics) {
          if (t.topicName == o_.topic) o_.queues = t.readQueueNums;
        }
        if (o_.queues == 0) {
          *error = "topic " + o_.topic + " does not exist and --queues 0 says not to create it";
          return false;
        }
      }
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
    return true;
  }

  bool wait_primed(int queues, int64_t deadline_ns, std::string* error) override {
    auto channel = connect(o_.server, error, /*coalesce=*/false);
    if (!channel) return false;
    try {
      for (int q = 0; q < queues; ++q) {
        wire::QueueRef ref;
        ref.topic = o_.topic;
        ref.queueId = q;
        for (wire::OffsetResponse r;; std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
          channel->broker().getMaxOffset(r, ref);
          if (r.code == 0 && r.offset > 0) break;
          if (now_ns() > deadline_ns) {
            *error = "queue " + std::to_string(q) + " of " + o_.topic + " still shows no message (max offset " +
                     std::to_string(r.offset) + ", code " + std::to_string(r.code) + " " + r.remark + ")";
            return false;
          }
        }
      }
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
    return true;
  }

  std::unique_ptr<Sender> make_sender(int index, std::string* error) override {
    if (o_.backend == "raw") {
      auto channel = connect(o_.server, error, /*coalesce=*/true);
      if (!channel) return nullptr;
      return std::make_unique<RawSender>(std::move(channel), o_.topic, o_.window);
    }
    auto producer = std::make_unique<client::Producer>("mqbench_producer_" + std::to_string(index));
    producer->set_namesrv_addr(o_.namesrv);
    producer->set_async_queue_capacity(std::max(10000, o_.window * 2));
    client::Status st = producer->start();
    if (!st.is_ok()) {
      *error = "producer start: " + st.to_string();
      return nullptr;
    }
    return std::make_unique<SdkSender>(std::move(producer), o_.topic, o_.window);
  }

  std::unique_ptr<Receiver> make_receiver(bool from_first, std::string* error) override {
    if (o_.backend == "sdk" && o_.consume == "push") {
      return std::make_unique<SdkPushReceiver>(o_.namesrv, o_.topic, o_.group, from_first);
    }
    if (o_.backend == "sdk") {
      auto consumer = std::make_unique<client::PullConsumer>(o_.group);
      consumer->set_namesrv_addr(o_.namesrv);
      client::Status st = consumer->start();
      if (!st.is_ok()) {
        *error = "pull consumer start: " + st.to_string();
        return nullptr;
      }
      auto queues = consumer->fetch_subscribe_message_queues(o_.topic, &st);
      if (queues.empty()) {
        *error = "no queues for " + o_.topic + ": " + st.to_string();
        return nullptr;
      }
      std::vector<int64_t> offsets;
      for (const auto& q : queues) {
        offsets.push_back(from_first ? consumer->min_offset(q) : consumer->max_offset(q));
      }
      return std::make_unique<SdkPullReceiver>(std::move(consumer), std::move(queues), std::move(offsets));
    }
    auto channel = connect(o_.server, error, /*coalesce=*/true);
    if (!channel) return nullptr;
    std::vector<int64_t> offsets;
    try {
      for (int q = 0; q < o_.queues; ++q) {
        wire::QueueRef ref;
        ref.topic = o_.topic;
        ref.queueId = q;
        wire::OffsetResponse r;
        if (from_first)
          channel->broker().getMinOffset(r, ref);
        else
          channel->broker().getMaxOffset(r, ref);
        offsets.push_back(r.code == 0 ? r.offset : 0);
      }
    } catch (const std::exception& e) {
      *error = e.what();
      return nullptr;
    }
    return std::make_unique<RawReceiver>(std::move(channel), o_.topic, o_.group, std::move(offsets));
  }

 private:
  BenchOptions o_;
};

}  // namespace

std::unique_ptr<Backend> make_mq_backend(const BenchOptions& options, std::string* error) {
  if (options.backend != "raw" && options.backend != "sdk") {
    *error = "--backend must be raw or sdk (got '" + options.backend + "')";
    return nullptr;
  }
  return std::make_unique<MqBackend>(options);
}

}  // namespace mq::bench
