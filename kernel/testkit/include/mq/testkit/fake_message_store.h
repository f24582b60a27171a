// FakeMessageStore: an in-memory MessageStore for kernel and plugin tests. Queue offsets, GetStatus
// values and arrival notifications follow DefaultMessageStore; puts complete and
// listeners run on the fake's own dispatcher thread, as with the real store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/config.hpp>

#include "mq/message_store.h"

namespace mq::testkit {

// Threading: every method is safe from any thread. Puts are applied in call order by
// one dispatcher thread: append (visible to get/max_offset), complete `done`, then call
// the arrival listeners.
class FakeMessageStore final : public MessageStore {
 public:
  FakeMessageStore();
  ~FakeMessageStore() override;

  void put(StoredMessage msg, PutCallback done) override;
  void put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) override;
  GetResult get(const GetRequest& request) override;
  QueueOffset min_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset max_offset(const std::string& topic, QueueId queue_id) override;
  QueueOffset offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) override;
  Result<StoredMessage> read_at(CommitLogOffset offset) override;
  // Linear scan of every stored message (newest first), same matching as the key index.
  std::vector<StoredMessage> query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                          int64_t begin_ms, int64_t end_ms) override;
  void add_arrival_listener(ArrivalListener listener) override;
  StoreStats stats() override;

  // ---- test controls ----
  // Every later put fails (not appended) with `status`; Status::ok() restores normal puts.
  void fail_puts_with(Status status);
  // stats() reports the consume queues this many bytes behind the end of the log.
  void set_dispatch_lag(int64_t bytes);
  // Simulates retention: messages below `offset` are gone (min offset moves up).
  void truncate_below(const std::string& topic, QueueId queue_id, QueueOffset offset);
  // Blocks until every put issued so far has been applied and its listeners have run.
  void drain();
  // Messages stored so far in topic/queue (a copy).
  std::vector<StoredMessage> messages(const std::string& topic, QueueId queue_id);
  uint64_t put_calls() const;
  uint64_t get_calls() const;
  // The limits of the latest get() and the thread that called it.
  struct GetCall {
    int32_t max_count = 0;
    int32_t max_bytes = 0;
    std::thread::id thread;
  };
  std::optional<GetCall> last_get() const;

 private:
  struct Queue {
    int64_t min = 0;                  // first offset still stored
    std::vector<StoredMessage> msgs;  // msgs[i] has queue offset base + i
    int64_t base = 0;                 // queue offset of msgs[0]
  };
  using Key = std::pair<std::string, QueueId>;
  void run();
  void enqueue(std::function<void()> task);
  PutResult append_locked(StoredMessage msg);  // requires mu_

  mutable std::mutex mu_;
  std::map<Key, Queue> queues_;                 // guarded by mu_
  std::map<int64_t, StoredMessage> by_offset_;  // commit-log offset -> message; mu_
  int64_t next_commit_offset_ = 0;              // guarded by mu_
  int64_t dispatch_lag_ = 0;                    // guarded by mu_
  Status put_failure_;                          // guarded by mu_
  uint64_t put_calls_ = 0;                      // guarded by mu_
  uint64_t get_calls_ = 0;                      // guarded by mu_
  std::optional<GetCall> last_get_;             // guarded by mu_
  std::vector<ArrivalListener> listeners_;      // guarded by mu_

  std::mutex task_mu_;
  std::condition_variable task_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by task_mu_
  bool busy_ = false;                        // guarded by task_mu_
  bool stopping_ = false;                    // guarded by task_mu_
  std::thread dispatcher_;
};

}  // namespace mq::testkit
