// The put pipeline: hooks plugins add to the kernel's send path. Before-store hooks may
// rewrite a message (delay -> SCHEDULE_TOPIC_XXXX, half message -> RMQ_SYS_TRANS_HALF_TOPIC)
// or refuse it; after-store hooks may hold the reply (SYNC_MASTER waits for a replica).
// Provided by the kernel of mqbroker (not by a plugin): plugins find it in init() and do
// not list it in their descriptor's requires_.
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <functional>
#include <memory>
#include <string_view>

#include "mq/message.h"
#include "mq/status.h"
#include "mq/types.h"

namespace mq {

// Runs on the sending connection's thread for every message of a send, after the kernel
// validated it and assigned its queue, unique id, born and store host; before the put.
// Must not block. Hooks run in registration order (plugin init order).
class BOOST_SYMBOL_VISIBLE BeforeStoreHook {
 public:
  virtual ~BeforeStoreHook() = default;
  // May rewrite `msg` (topic, queue id, properties, sys flag). A non-OK status refuses
  // the whole send with that status; nothing of it is stored. All messages of a batch
  // must still share one topic and queue afterwards, or the kernel refuses the batch.
  virtual Status before_store(StoredMessage& msg) = 0;
};

// What a put stored: [begin, end) of the commit log (a batch: all of its records).
struct StoredRange {
  CommitLogOffset begin{0};
  CommitLogOffset end{0};
};

// Called once per put the store answered OK (appended, and flushed as the flush mode
// requires). Calls `done` exactly once, from any thread, with the status the reply
// carries: OK, or FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE (the message stays stored).
// Must not block: a wait is a completion held until the condition is met.
class BOOST_SYMBOL_VISIBLE AfterStoreHook {
 public:
  virtual ~AfterStoreHook() = default;
  virtual void after_store(const StoredRange& stored, std::function<void(Status)> done) = 0;
};

// Threading: add_* only during plugin init(); the lists are read without locks afterwards.
class BOOST_SYMBOL_VISIBLE PutPipeline {
 public:
  static constexpr std::string_view kServiceName = "PutPipeline";
  virtual ~PutPipeline() = default;
  virtual void add_before_store(std::shared_ptr<BeforeStoreHook> hook) = 0;
  virtual void add_after_store(std::shared_ptr<AfterStoreHook> hook) = 0;
  // For a plugin's own puts (delayed deliveries, retries, transaction commits and op
  // records): runs the after-store hooks over what it stored, as for a client's send, so a
  // SYNC_MASTER's put counts only once a slave has it. `done` runs exactly once, from any
  // thread (at once when no hook is registered). Call after the store answered OK; never
  // blocks. Safe from any thread once plugins are started.
  virtual void after_own_put(const StoredRange& stored, std::function<void(Status)> done) = 0;
};

}  // namespace mq
