// OffsetStore: the consumer group's committed offsets per queue as known to this client
// (RocketMQ RemoteBrokerOffsetStore, in-memory part). Values are persisted to the brokers by
// the consumer; this class tracks which ones changed since. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>

#include "mq/client/message.h"

namespace mq::client {

class OffsetStore {
 public:
  // increase_only: keep the larger of the stored and the new value.
  void update(const MessageQueue& queue, int64_t offset, bool increase_only);
  // -1 when unknown.
  int64_t read(const MessageQueue& queue) const;
  void remove(const MessageQueue& queue);
  // Entries whose value differs from the last persisted one.
  std::map<MessageQueue, int64_t> to_persist() const;
  void mark_persisted(const MessageQueue& queue, int64_t offset);

 private:
  struct Entry {
    int64_t offset = -1;
    int64_t persisted = -1;
  };
  mutable std::mutex mu_;
  std::map<MessageQueue, Entry> entries_;
};

}  // namespace mq::client
