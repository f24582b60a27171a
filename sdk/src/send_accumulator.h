// SendAccumulator: coalesces single async sends into one batch call per topic, as Kafka's
// RecordAccumulator (linger.ms, batch.size) does, keeping one result and one callback per
// message.
//
// Invariants:
// - A topic has at most one batch in flight, and batches are taken from the front of the
//   topic's FIFO, so messages reach the broker, and callbacks run, in submission order per
//   topic (hence per queue). Only a retry on another queue after a failure can move a batch
//   elsewhere; its messages stay in order among themselves.
// - Every submitted send's callback runs exactly once: with its own entry of the batch's results,
//   on a sender thread; submit() never runs it (a refused send is returned to the caller).
// - A batch holds messages of one topic, at most max_batch_messages of them and at most
//   max_batch_bytes (a single larger message travels alone); a `solo` send always travels alone.
// - A batch leaves when its topic has none in flight and one of: linger_ms passed since its
//   oldest message was submitted, it is full, its front is solo, or shutdown() runs (which
//   flushes everything, ignoring linger). With linger_ms = 0 whatever is pending leaves as soon
//   as the previous batch of the topic completed: batching then happens only under load.
// Threading: submit() and shutdown() from any thread except a sender thread (shutdown joins
// them); the send function and callbacks run on the sender threads, outside the lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mq/client/producer.h"
#include "wire_convert.h"

namespace mq::client {

struct PendingSend {
  wire::Message message;                             // topic set; UNIQ_KEY set
  std::string msg_id;                                // the UNIQ_KEY, for results of failed batches
  size_t bytes = 0;                                  // body + properties, counted against max_batch_bytes
  bool solo = false;                                 // must not share a request (delayed delivery, for example)
  SendCallback callback;                             // may be empty
  std::chrono::steady_clock::time_point deadline{};  // submitted + linger (set by submit)
};

class SendAccumulator {
 public:
  struct Options {
    int linger_ms = 0;
    size_t max_batch_bytes = 1024 * 1024;
    size_t max_batch_messages = 1024;
    size_t capacity = 10000;  // most pending (not yet sent) messages over all topics
    int sender_threads = 4;
  };
  // Sends one batch (one topic, submission order) and returns one result per message, in order.
  // Runs on a sender thread; an exception or a wrong number of results fails the whole batch.
  using SendBatchFn = std::function<std::vector<SendResult>(std::vector<PendingSend>& batch)>;

  enum class Submit { kQueued, kFull, kClosed };

  SendAccumulator(Options options, SendBatchFn send);
  ~SendAccumulator();  // shutdown()
  SendAccumulator(const SendAccumulator&) = delete;
  SendAccumulator& operator=(const SendAccumulator&) = delete;

  // On kQueued the send is owned by the accumulator; otherwise `send` is left untouched.
  Submit submit(PendingSend& send);
  // Refuses new sends, sends every pending one (linger ignored), waits for the batches in flight
  // and joins the sender threads. Idempotent.
  void shutdown();
  size_t pending() const;

 private:
  struct TopicQueue {
    std::deque<PendingSend> sends;
    size_t bytes = 0;
    bool in_flight = false;
  };
  bool ready(const TopicQueue& q, std::chrono::steady_clock::time_point now) const;
  std::vector<PendingSend> take_batch(TopicQueue& q);
  void run();
  void complete(std::vector<PendingSend>& batch);

  const Options options_;
  const SendBatchFn send_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, TopicQueue> topics_;  // guarded by mu_; element refs are stable
  size_t pending_ = 0;
  bool closing_ = false;
  std::vector<std::thread> threads_;
  std::mutex join_mu_;  // serializes concurrent shutdown() calls
};

}  // namespace mq::client
