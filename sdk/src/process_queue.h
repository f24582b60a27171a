// ProcessQueue: the messages of one assigned queue that were pulled but not yet consumed,
// ordered by queue offset. It decides the offset that is safe to commit: the smallest offset
// still held (a slow or failed message pins it), or, when empty, the pull frontier (the
// highest offset put + 1, or the broker's nextBeginOffset when messages were filtered out).
// Thread-safe: the puller puts, consume threads remove.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "mq/client/message.h"

namespace mq::client {

class ProcessQueue {
 public:
  // Adds messages not already held and raises the frontier to next_begin_offset (pass -1
  // for none). Returns how many messages were added.
  size_t put(const std::vector<MessageExt>& messages, int64_t next_begin_offset = -1);
  // Removes consumed messages by queue offset and returns commit_offset().
  int64_t remove(const std::vector<int64_t>& queue_offsets);
  // The offset to commit, or -1 when nothing was ever put and no frontier is known.
  int64_t commit_offset() const;
  // Sets the frontier to offset, up or down (PULL_OFFSET_MOVED); held messages stay.
  void reset_frontier(int64_t offset);

  size_t message_count() const;
  int64_t message_bytes() const;
  // Largest minus smallest held offset (0 when fewer than two messages).
  int64_t offset_span() const;

  bool dropped() const { return dropped_.load(); }
  void set_dropped() { dropped_.store(true); }

 private:
  int64_t commit_offset_locked() const;
  mutable std::mutex mu_;
  std::map<int64_t, int64_t> held_;  // queue offset -> body bytes
  int64_t bytes_ = 0;
  int64_t max_put_offset_ = -1;
  int64_t frontier_ = -1;
  std::atomic<bool> dropped_{false};
};

}  // namespace mq::client
