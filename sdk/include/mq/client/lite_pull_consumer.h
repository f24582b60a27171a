// LitePullConsumer: poll()-style consumption. Either subscribe(topic, expression) (queues shared
// with the group by rebalance, like a push consumer) or assign(queues) (the application's
// choice, no group coordination). poll() pulls on the calling thread. Offsets of the messages
// poll() returned are committed automatically (at most every 5 s, checked on poll and by a
// timer, and at shutdown) unless set_auto_commit(false), then by commit_sync().
// Thread-safe; no method throws. Configuration setters must be called before start().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mq/client/export.h"
#include "mq/client/message.h"
#include "mq/client/push_consumer.h"
#include "mq/client/status.h"

namespace mq::client {

class MQ_CLIENT_API LitePullConsumer {
 public:
  explicit LitePullConsumer(std::string group);
  ~LitePullConsumer();  // calls shutdown()
  LitePullConsumer(const LitePullConsumer&) = delete;
  LitePullConsumer& operator=(const LitePullConsumer&) = delete;

  void set_namesrv_addr(std::string addresses);
  void subscribe(const std::string& topic, const std::string& expression);
  // Replaces the assignment (may be called after start()); do not mix with subscribe().
  void assign(std::vector<MessageQueue> queues);
  void set_auto_commit(bool enable);                   // default true
  void set_pull_batch_size(int messages);              // default 32 (most messages per poll)
  void set_consume_from_where(ConsumeFromWhere where); // default kLastOffset (no committed offset)
  void set_rebalance_interval_ms(int ms);              // default 20000 (subscribe mode)
  const std::string& group() const;

  Status start();
  Status shutdown();  // commits (auto-commit mode) and unregisters; idempotent

  // Messages of one or more assigned queues, in offset order per queue; empty after timeout_ms.
  std::vector<MessageExt> poll(int timeout_ms);
  // The next poll of mq starts at offset (also what a commit will store for mq).
  void seek(const MessageQueue& mq, int64_t offset);
  // Commits the offsets of every message poll() returned so far.
  Status commit_sync();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::client
