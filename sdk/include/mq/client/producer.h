// Producer: sends messages to the brokers serving a topic, found through the name servers.
// Thread-safe once started: send / send_async / send_oneway may be called from any thread.
// No method throws; failures come back as a Status or a SendResult with a code and remark.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "mq/client/export.h"
#include "mq/client/message.h"
#include "mq/client/send_result.h"
#include "mq/client/status.h"

namespace mq::client {

// Runs on an SDK sender thread; must not block for long (the topic's next batch waits for it),
// and must not call Producer::shutdown.
using SendCallback = std::function<void(const SendResult&)>;

class MQ_CLIENT_API Producer {
 public:
  // Ordered messages: picks the queue for a message from the topic's writable queues (sorted by
  // broker name, queue id). Must return one of `queues`.
  using MessageQueueSelector =
      std::function<MessageQueue(const std::vector<MessageQueue>& queues, const Message& msg, const std::string& arg)>;
  // queues[abs(hash(arg)) % size]: every message with the same arg goes to the same queue while
  // the route is unchanged.
  static MessageQueueSelector select_by_hash();

  explicit Producer(std::string group);
  ~Producer();  // calls shutdown()
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Configuration: call before start().
  // "host:port;host:port". When never set, start() reads the NAMESRV_ADDR environment variable.
  void set_namesrv_addr(std::string addresses);
  void set_send_timeout_ms(int timeout_ms);              // default 3000
  void set_retry_times_when_send_failed(int times);      // default 2 (3 attempts in total)
  void set_max_message_size(int64_t bytes);              // default 4 MiB
  // send_async coalesces the pending async sends of a topic into one batch request (one in
  // flight per topic, so order per topic and queue is kept) and keeps a result per message.
  void set_async_worker_threads(int threads);            // default 4 sender threads
  void set_async_queue_capacity(int capacity);           // default 10000 pending async sends
  // Kafka linger.ms: how long a not-yet-full batch waits for more messages. 0 (default): it
  // leaves as soon as the topic's previous batch is answered, so sends batch only under load.
  void set_async_linger_ms(int linger_ms);
  void set_async_batch_max_bytes(int64_t bytes);         // default 1 MiB (capped at the max message size)
  void set_async_batch_max_messages(int messages);       // default 1024
  void set_route_refresh_interval_ms(int interval_ms);   // default 30000
  void set_heartbeat_interval_ms(int interval_ms);       // default 30000 (producerConnection)
  // Avoid a broker that just failed (30 s) or answered slowly (RocketMQ latency table). Default true.
  void set_send_latency_fault_enable(bool enable);
  // Bodies are always sent uncompressed: compression is not implemented (no zlib among the
  // allowed dependencies).
  const std::string& group() const;

  Status start();
  // Waits for queued async sends to finish; idempotent.
  Status shutdown();

  // Synchronous send with queue selection round-robin and retries on another broker.
  SendResult send(const Message& message);
  // Synchronous send to one queue (no retry on another queue).
  SendResult send(const Message& message, const MessageQueue& queue);
  // The callback runs exactly once, on an SDK sender thread, in send order per topic; it runs on
  // the calling thread when the send is refused: invalid message, not running, or the async
  // queue full (kClientBusy). Pending sends are flushed by shutdown().
  void send_async(const Message& message, SendCallback callback);
  // Async, future flavour (the future never throws; failures come back as a SendResult).
  std::future<SendResult> send_future(const Message& message);
  // Batch: messages of one topic, stored consecutively in one queue, retried as a whole on another
  // broker like send(). SendResult::batch holds one result per message, in order.
  SendResult send_batch(const std::vector<Message>& messages);
  // Ordered messages: selector picks the queue; no retry on another queue or broker.
  SendResult send(const Message& message, const MessageQueueSelector& selector, const std::string& arg);
  // Fire and forget: no broker acknowledgement, no retry. Errors seen locally are returned.
  Status send_oneway(const Message& message);
  // Cancels a message sent with a delay level or a TIMER_* property before it is delivered:
  // `topic` is the topic it was sent to, `msg_id` its SendResult::msg_id (UNIQ_KEY). Asks every
  // broker serving the topic; QUERY_NOT_FOUND when none holds it pending (never scheduled,
  // already delivered or cancelled); REQUEST_CODE_NOT_SUPPORTED without the schedule plugin.
  Status cancel_scheduled(const std::string& topic, const std::string& msg_id);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::client
