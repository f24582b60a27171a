// PushConsumer: a clustering consumer group member. It shares the subscribed topics' queues
// with the other members (rebalance), pulls them with long polling, hands messages to the
// listener on a consume thread pool and commits consumed offsets to the brokers.
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
  kReconsumeLater = 1,  // redelivered later; the committed offset never passes the message
};

enum class ConsumeFromWhere : int32_t {
  kLastOffset = 0,   // a group with no committed offset starts at the queue's end
  kFirstOffset = 1,  // ... at the queue's beginning
  kTimestamp = 2,    // ... at the first message stored at or after consume_timestamp
};

enum class MessageModel : int32_t {
  kClustering = 0,
  kBroadcasting = 1,  // not supported yet: start() refuses it
};

// Called concurrently from the consume threads, with at most consume_message_batch_max_size
// messages of one queue. An exception thrown by the listener counts as kReconsumeLater.
using MessageListener = std::function<ConsumeStatus(const std::vector<MessageExt>&)>;

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
  void register_message_listener(MessageListener listener);
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
  void set_reconsume_delay_ms(int ms);                            // default 1000
  const std::string& group() const;
  // Unique per instance: "ip@pid@n".
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
