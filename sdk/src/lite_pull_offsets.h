// LitePullOffsets: per assigned queue, where the next pull starts and which offset may be
// committed (just past the last message poll() returned), and what was committed already.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "mq/client/message.h"

namespace mq::client {

class LitePullOffsets {
 public:
  // Keeps the state of queues still assigned, adds new ones (offset unknown), drops the others
  // (returned, so their pending commits can be flushed first).
  std::vector<MessageQueue> assign(const std::set<MessageQueue>& queues);
  std::vector<MessageQueue> queues() const;
  bool contains(const MessageQueue& q) const;
  // -1 while unknown (the consumer then looks up the committed offset).
  int64_t next_pull(const MessageQueue& q) const;
  // Sets where the next pull starts (after a pull answer, or the initial lookup).
  void set_next_pull(const MessageQueue& q, int64_t offset);
  // seek(): the next pull and the commit point both move to offset.
  void seek(const MessageQueue& q, int64_t offset);
  // poll() returned messages of q up to last_offset: the commit point becomes last_offset + 1.
  void on_returned(const MessageQueue& q, int64_t last_offset);
  // Commit points not yet committed.
  std::map<MessageQueue, int64_t> to_commit() const;
  void mark_committed(const MessageQueue& q, int64_t offset);

 private:
  struct Cursor {
    int64_t next_pull = -1;
    int64_t consumed = -1;
    int64_t committed = -1;
  };
  mutable std::mutex mu_;
  std::map<MessageQueue, Cursor> cursors_;
};

}  // namespace mq::client
