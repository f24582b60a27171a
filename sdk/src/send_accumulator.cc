// SendAccumulator: per-topic FIFOs of pending async sends drained as batches by sender threads.
#include "send_accumulator.h"

#include <algorithm>
#include <exception>

#include "logging.h"

namespace mq::client {
namespace {

SendResult batch_failure(const PendingSend& send, std::string remark) {
  SendResult r;
  r.code = code::kClientError;
  r.remark = std::move(remark);
  r.msg_id = send.msg_id;
  return r;
}

}  // namespace

SendAccumulator::SendAccumulator(Options options, SendBatchFn send) : options_(options), send_(std::move(send)) {
  const int n = std::max(1, options_.sender_threads);
  threads_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
}

SendAccumulator::~SendAccumulator() {
  shutdown();
}

size_t SendAccumulator::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
}

SendAccumulator::Submit SendAccumulator::submit(PendingSend& send) {
  std::unique_lock lock(mu_);
  if (closing_) return Submit::kClosed;
  if (options_.capacity > 0 && pending_ >= options_.capacity) return Submit::kFull;
  send.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, options_.linger_ms));
  TopicQueue& q = topics_[send.message.topic];
  q.bytes += send.bytes;
  q.sends.push_back(std::move(send));
  ++pending_;
  // A topic with a batch in flight is picked up again by the thread completing that batch; a
  // lone first message needs a thread to start its linger wait.
  const bool wake = !q.in_flight && (q.sends.size() == 1 || ready(q, q.sends.back().deadline));
  lock.unlock();
  if (wake) cv_.notify_one();
  return Submit::kQueued;
}

bool SendAccumulator::ready(const TopicQueue& q, std::chrono::steady_clock::time_point now) const {
  if (q.in_flight || q.sends.empty()) return false;
  return closing_ || options_.linger_ms <= 0 || q.sends.front().solo || q.bytes >= options_.max_batch_bytes ||
         q.sends.size() >= options_.max_batch_messages || now >= q.sends.front().deadline;
}

std::vector<PendingSend> SendAccumulator::take_batch(TopicQueue& q) {
  std::vector<PendingSend> batch;
  if (q.sends.front().solo) {
    batch.push_back(std::move(q.sends.front()));
  } else {
    const size_t max_messages = std::max<size_t>(1, options_.max_batch_messages);
    batch.reserve(std::min(q.sends.size(), max_messages));
    size_t bytes = 0;
    for (auto it = q.sends.begin(); it != q.sends.end() && !it->solo && batch.size() < max_messages; ++it) {
      if (!batch.empty() && bytes + it->bytes > options_.max_batch_bytes) break;
      bytes += it->bytes;
      batch.push_back(std::move(*it));
    }
  }
  for (const PendingSend& s : batch) q.bytes -= s.bytes;
  q.sends.erase(q.sends.begin(), q.sends.begin() + static_cast<std::ptrdiff_t>(batch.size()));
  pending_ -= batch.size();
  return batch;
}

void SendAccumulator::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    std::unordered_map<std::string, TopicQueue>::iterator chosen = topics_.end();
    for (auto it = topics_.begin(); it != topics_.end(); ++it) {
      const TopicQueue& q = it->second;
      if (q.in_flight || q.sends.empty()) continue;
      if (ready(q, now)) {
        chosen = it;
        break;
      }
      next = std::min(next, q.sends.front().deadline);
    }
    if (chosen == topics_.end()) {
      if (closing_ && pending_ == 0) return;
      if (next == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next);
      }
      continue;
    }
    const std::string topic = chosen->first;  // the iterator may not survive the unlocked send
    TopicQueue& q = chosen->second;           // element references do survive rehashing
    std::vector<PendingSend> batch = take_batch(q);
    q.in_flight = true;
    lock.unlock();
    complete(batch);  // callbacks run before the topic's next batch may leave: order per topic kept
    lock.lock();
    q.in_flight = false;
    if (q.sends.empty()) topics_.erase(topic);
    // Other threads may wait for this topic (or, when closing, for the last batch to finish).
    cv_.notify_all();
  }
}

void SendAccumulator::complete(std::vector<PendingSend>& batch) {
  std::vector<SendResult> results;
  std::string failure;
  try {
    results = send_(batch);
    if (results.size() != batch.size()) {
      failure = "internal error: " + std::to_string(results.size()) + " results for a batch of " +
                std::to_string(batch.size()) + " messages";
    }
  } catch (const std::exception& e) {
    failure = std::string("send failed: ") + e.what();
  } catch (...) {
    failure = "send failed with a non-standard exception";
  }
  if (!failure.empty()) {
    client_log().error("async send of {} messages to {}: {}", batch.size(), batch.front().message.topic, failure);
    results.clear();
    for (const PendingSend& s : batch) results.push_back(batch_failure(s, failure));
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].callback) continue;
    try {
      batch[i].callback(results[i]);
    } catch (const std::exception& e) {
      client_log().error("async send callback threw: {}", e.what());
    } catch (...) {
      client_log().error("async send callback threw a non-standard exception");
    }
  }
}

void SendAccumulator::shutdown() {
  std::lock_guard join(join_mu_);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace mq::client
