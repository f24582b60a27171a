// PushConsumer: a consumer group member. Clustering: it shares the subscribed topics' queues
// with the other members (rebalance, promptly on membership change), pulls them with long
// polling, hands messages to the listener on a consume thread pool and commits consumed offsets
// to the brokers. Broadcasting: it consumes every queue and keeps offsets in a local file.
// Orderly listener: a queue is consumed by one thread at a time, in offset order, only while
// this client holds the queue's broker-side lock (renewed every 20 s).
//
// Retry and dead-letter queue (clustering):
//  - Concurrent listener: a message the listener fails (kReconsumeLater, an exception, or still
//    running after consume_timeout) is sent back to its broker (consumerSendMsgBack), which
//    stores it in %RETRY%<group> with a growing delay (level 3 + reconsume times: 10 s, 30 s,
//    1 m, ... with the default levels) and, after max_reconsume_times failures, in %DLQ%<group>.
//    Once the broker accepted it the message counts as consumed. Members subscribe
//    %RETRY%<group> automatically; the listener sees the original topic and
//    MessageExt::reconsume_times(). If the send-back fails (e.g. the broker has no schedule
//    plugin) the message is redelivered locally after reconsume_delay and never skipped.
//  - Orderly listener: a failed batch is retried in place after suspend_current_queue_time
//    (the queue waits; reconsume times counted locally); a message that failed
//    max_reconsume_times times is sent straight to %DLQ%<group> and the queue moves on.
// Broadcasting consumers never retry: a failed message is logged and skipped.
// No method throws. Configuration setters must be called before start().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mq/client/export.h"
#include "mq/client/message.h"
#include "mq/client/status.h"

namespace mq::client {

enum class ConsumeStatus : int32_t {
  kConsumeSuccess = 0,
  kReconsumeLater = 1,  // retried later (see the retry notes above); broadcasting: skipped
};

enum class ConsumeFromWhere : int32_t {
  kLastOffset = 0,   // a group with no committed offset starts at the queue's end
  kFirstOffset = 1,  // ... at the queue's beginning
  kTimestamp = 2,    // ... at the first message stored at or after consume_timestamp
};

enum class MessageModel : int32_t {
  kClustering = 0,
  kBroadcasting = 1,  // every member consumes every queue; offsets stored locally
};

// Called concurrently from the consume threads, with at most consume_message_batch_max_size
// messages of one queue. An exception thrown by the listener counts as kReconsumeLater.
using MessageListener = std::function<ConsumeStatus(const std::vector<MessageExt>&)>;

// What a concurrent listener may tell the consumer about a batch (RocketMQ
// ConsumeConcurrentlyContext).
struct ConsumeConcurrentlyContext {
  MessageQueue queue;  // the queue the batch was pulled from (%RETRY%<group> for retries)
  // Delay level of the send-back of failed messages: 0 lets the broker pick (3 + reconsume
  // times), -1 sends them straight to %DLQ%<group>, n > 0 uses level n.
  int32_t delay_level_when_next_consume = 0;
  // With kConsumeSuccess: messages after this index count as failed (default: none).
  int32_t ack_index = INT32_MAX;
};
using MessageListenerWithContext =
    std::function<ConsumeStatus(const std::vector<MessageExt>&, ConsumeConcurrentlyContext&)>;

enum class ConsumeOrderlyStatus : int32_t {
  kSuccess = 0,
  kSuspendCurrentQueueAMoment = 1,  // the same batch is retried after suspend_current_queue_time
};
// Called with messages of one queue in offset order, never concurrently for the same queue.
// An exception thrown by the listener counts as kSuspendCurrentQueueAMoment.
using OrderlyMessageListener = std::function<ConsumeOrderlyStatus(const std::vector<MessageExt>&)>;

enum class AllocateStrategy : int32_t {
  kAveragely = 0,          // consecutive ranges of queues per member
  kAveragelyByCircle = 1,  // member k takes queues k, k+n, k+2n, ...
};

class MQ_CLIENT_API PushConsumer {
 public:
  explicit PushConsumer(std::string group);
  ~PushConsumer();  // calls shutdown()
  PushConsumer(const PushConsumer&) = delete;
  PushConsumer& operator=(const PushConsumer&) = delete;

  // "host:port;host:port". When never set, start() reads the NAMESRV_ADDR environment variable.
  void set_namesrv_addr(std::string addresses);
  // expression: "*" or "TagA || TagB". Subscribing a topic again replaces its expression.
  void subscribe(const std::string& topic, const std::string& expression);
  // expression_type "TAG" (as above) or "SQL92" (a property filter evaluated by the broker, e.g.
  // "a = 'x' AND b > 3"; start() fails with SUBSCRIPTION_PARSE_FAILED if a broker rejects it).
  void subscribe(const std::string& topic, const std::string& expression, const std::string& expression_type);
  // Exactly one of the two listeners; the last registered wins.
  void register_message_listener(MessageListener listener);
  void register_message_listener_with_context(MessageListenerWithContext listener);
  void register_message_listener_orderly(OrderlyMessageListener listener);
  void set_allocate_strategy(AllocateStrategy strategy);         // default kAveragely
  // Broadcasting offset directory; default $HOME/.mq_offsets/<clientId>/<group>/.
  void set_offset_store_dir(std::string dir);
  // Part of the client id ("ip@instance"), so two consumers of one process differ; set it to a
  // stable name to keep broadcasting offsets across restarts. Default: "<pid>@<n>-<random>".
  void set_instance_name(std::string name);
  void set_message_model(MessageModel model);                     // default kClustering
  void set_consume_thread_count(int threads);                     // default 4
  void set_consume_from_where(ConsumeFromWhere where);            // default kLastOffset
  void set_consume_timestamp_ms(int64_t ms);                      // default: start time - 30 min
  void set_pull_batch_size(int messages);                         // default 32
  void set_consume_message_batch_max_size(int messages);          // default 1
  void set_pull_threshold_for_queue(int messages);                // default 1000
  void set_pull_threshold_size_for_queue_mib(int mib);            // default 100
  void set_pull_suspend_timeout_ms(int ms);                       // default 15000 (long polling)
  void set_route_refresh_interval_ms(int ms);                     // default 30000
  void set_heartbeat_interval_ms(int ms);                         // default 30000
  void set_rebalance_interval_ms(int ms);                         // default 20000
  void set_persist_offset_interval_ms(int ms);                    // default 5000
  void set_reconsume_delay_ms(int ms);                            // default 1000 (local redelivery)
  // Failures before a message goes to %DLQ%<group>. Default -1: 16 for a concurrent listener,
  // unlimited for an orderly one (RocketMQ).
  void set_max_reconsume_times(int times);
  // A concurrent listener still running on a message after this long: the message is sent
  // back (delay level 3) and the listener's later verdict on it is ignored. 0 disables.
  void set_consume_timeout_ms(int64_t ms);                        // default 15 min
  void set_suspend_current_queue_time_ms(int ms);                 // default 1000 (orderly)
  const std::string& group() const;
  // "ip@instance_name", unique per instance by default ("ip@pid@n-x").
  std::string client_id() const;

  Status start();
  // Stops pulling, waits for in-flight consumption, commits offsets, unregisters from the
  // brokers and joins every thread. A pull held by the broker (long polling) can delay the
  // return by up to the pull suspend timeout. Idempotent.
  Status shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::client
