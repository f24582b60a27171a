// The interface between the mqbench load generator (driver.h) and a messaging system: one
// Backend per system (ours through the SDK or raw Thrift; NATS and Redis in bench/), so every
// system is driven by the same loops, clocks and histograms.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench_options.h"

namespace mq::bench {

// Completion of one async call of `count` messages; tag_ns is the tag given to send_async.
// May run on a back-end thread; must be cheap.
using SendDone = std::function<void(bool ok, int64_t tag_ns, int count)>;

// One producer connection. Used by one thread only.
class Sender {
 public:
  virtual ~Sender() = default;
  // One call carrying bodies (1 = single message, more = one batch), to queue `queue`;
  // returns when acknowledged. false (with *error) when the system reports failure.
  virtual bool send_sync(int queue, const std::vector<std::string>& bodies, std::string* error) = 0;
  // Starts one call; done runs once per call (possibly later, on another thread). Blocks
  // while `window` calls are already in flight. Must not keep references to bodies.
  virtual void send_async(int queue, const std::vector<std::string>& bodies, int64_t tag_ns, const SendDone& done) = 0;
  // Fire and forget; false when unsupported or failed locally.
  virtual bool send_oneway(int queue, const std::vector<std::string>& bodies, std::string* error) {
    (void)queue, (void)bodies;
    *error = "oneway sends are not supported by this back end";
    return false;
  }
  // Waits until every async call has completed (its done ran).
  virtual void drain() = 0;
  // Sends the calls a client holds to pipeline them (hiredis and the raw back end write
  // queued requests when they next wait for a reply); the driver calls it after every call
  // when producing at a fixed rate, so a call leaves when it is made.
  virtual void flush() {}
};

struct ReceiveSink {
  std::function<void(std::string_view body)> message;  // may run on several threads at once
  std::function<void(const std::string& error)> error;
};

// One consumer of every queue of the topic, from the first offset or from the end.
class Receiver {
 public:
  virtual ~Receiver() = default;
  // Delivers messages to sink until stop is set; returns after stop within ~1 s.
  virtual void run(const ReceiveSink& sink, const std::atomic<bool>& stop) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Creates the topic / stream with options.queues queues (if > 0) and checks the server.
  virtual bool prepare(const BenchOptions& options, std::string* error) = 0;
  virtual std::unique_ptr<Sender> make_sender(int index, std::string* error) = 0;
  // Positions the consumer (first or last offset) before returning.
  virtual std::unique_ptr<Receiver> make_receiver(bool from_first, std::string* error) = 0;
  // After the warm-up sent one message to each of queues [0, queues): returns once each shows
  // at least one message to readers (a broker that indexes after acknowledging has made the
  // queue's files by then), false (with *error) at `deadline_ns` (steady clock). Systems that
  // index before acknowledging keep this default.
  virtual bool wait_primed(int queues, int64_t deadline_ns, std::string* error) {
    (void)queues, (void)deadline_ns, (void)error;
    return true;
  }
};

}  // namespace mq::bench
