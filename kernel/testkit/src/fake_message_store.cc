// FakeMessageStore: in-memory store with a dispatcher thread (see the header).
#include "mq/testkit/fake_message_store.h"

#include <algorithm>
#include <chrono>

namespace mq::testkit {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int32_t record_size(const StoredMessage& m) {
  int64_t props = 0;
  for (const auto& [k, v] : m.properties) props += static_cast<int64_t>(k.size() + v.size() + 2);
  return static_cast<int32_t>(100 + m.topic.size() + m.body.size() + props);
}

}  // namespace

FakeMessageStore::FakeMessageStore() : dispatcher_([this] { run(); }) {}

FakeMessageStore::~FakeMessageStore() {
  {
    std::lock_guard lock(task_mu_);
    stopping_ = true;
  }
  task_cv_.notify_all();
  dispatcher_.join();
}

void FakeMessageStore::run() {
  std::unique_lock lock(task_mu_);
  while (true) {
    task_cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping and drained
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    busy_ = true;
    lock.unlock();
    task();
    lock.lock();
    busy_ = false;
    if (tasks_.empty()) idle_cv_.notify_all();
  }
}

void FakeMessageStore::enqueue(std::function<void()> task) {
  {
    std::lock_guard lock(task_mu_);
    tasks_.push_back(std::move(task));
  }
  task_cv_.notify_one();
}

void FakeMessageStore::drain() {
  std::unique_lock lock(task_mu_);
  idle_cv_.wait(lock, [this] { return tasks_.empty() && !busy_; });
}

PutResult FakeMessageStore::append_locked(StoredMessage msg) {
  PutResult r;
  Queue& q = queues_[{msg.topic, msg.queue_id}];
  msg.queue_offset = QueueOffset(q.base + static_cast<int64_t>(q.msgs.size()));
  msg.commit_log_offset = CommitLogOffset(next_commit_offset_);
  msg.store_timestamp_ms = now_ms();
  msg.store_size = record_size(msg);
  next_commit_offset_ += msg.store_size;
  r.commit_log_offset = msg.commit_log_offset;
  r.wrote_bytes = msg.store_size;
  r.queue_offset = msg.queue_offset;
  r.store_timestamp_ms = msg.store_timestamp_ms;
  r.offset_msg_id = make_offset_msg_id(msg.store_host, msg.commit_log_offset);
  by_offset_[msg.commit_log_offset.value()] = msg;
  q.msgs.push_back(std::move(msg));
  return r;
}

void FakeMessageStore::put(StoredMessage msg, PutCallback done) {
  {
    std::lock_guard lock(mu_);
    ++put_calls_;
  }
  enqueue([this, msg = std::move(msg), done = std::move(done)]() mutable {
    PutResult r;
    std::vector<ArrivalListener> listeners;
    std::string topic = msg.topic;
    QueueId queue_id = msg.queue_id;
    int64_t hash = tag_hash(msg.tags());
    {
      std::lock_guard lock(mu_);
      if (!put_failure_.is_ok()) {
        r.status = put_failure_;
      } else {
        r = append_locked(std::move(msg));
        listeners = listeners_;
      }
    }
    bool ok = r.status.is_ok();
    QueueOffset next = r.queue_offset + 1;
    done(std::move(r));
    if (ok)
      for (auto& l : listeners) l(topic, queue_id, next, hash);
  });
}

void FakeMessageStore::put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) {
  {
    std::lock_guard lock(mu_);
    ++put_calls_;
  }
  enqueue([this, msgs = std::move(msgs), done = std::move(done)]() mutable {
    std::vector<PutResult> results;
    std::vector<ArrivalListener> listeners;
    std::vector<std::tuple<std::string, QueueId, QueueOffset, int64_t>> arrivals;
    {
      std::lock_guard lock(mu_);
      for (auto& m : msgs) {
        if (!put_failure_.is_ok()) {
          PutResult r;
          r.status = put_failure_;
          results.push_back(std::move(r));
          continue;
        }
        arrivals.emplace_back(m.topic, m.queue_id, QueueOffset(0), tag_hash(m.tags()));
        results.push_back(append_locked(std::move(m)));
        std::get<2>(arrivals.back()) = results.back().queue_offset + 1;
      }
      listeners = listeners_;
    }
    done(std::move(results));
    for (const auto& [topic, queue_id, next, hash] : arrivals)
      for (auto& l : listeners) l(topic, queue_id, next, hash);
  });
}

GetResult FakeMessageStore::get(const GetRequest& request) {
  std::lock_guard lock(mu_);
  ++get_calls_;
  last_get_ = GetCall{request.max_count, request.max_bytes, std::this_thread::get_id()};
  GetResult r;
  const int64_t offset = request.offset.value();
  auto it = queues_.find({request.topic, request.queue_id});
  if (it == queues_.end()) {
    r.status = GetStatus::kNoMatchedLogicQueue;
    r.next_begin_offset = QueueOffset(0);
    return r;
  }
  const Queue& q = it->second;
  const int64_t max = q.base + static_cast<int64_t>(q.msgs.size());
  r.min_offset = QueueOffset(q.min);
  r.max_offset = QueueOffset(max);
  if (max == 0) {
    r.status = GetStatus::kNoMessageInQueue;
    r.next_begin_offset = QueueOffset(0);
  } else if (offset < q.min) {
    r.status = GetStatus::kOffsetTooSmall;
    r.next_begin_offset = QueueOffset(q.min);
  } else if (offset == max) {
    r.status = GetStatus::kOffsetOverflowOne;
    r.next_begin_offset = QueueOffset(offset);
  } else if (offset > max) {
    r.status = GetStatus::kOffsetOverflowBadly;
    r.next_begin_offset = QueueOffset(max);
  } else {
    int64_t bytes = 0;
    int64_t i = offset;
    for (; i < max && static_cast<int32_t>(r.messages.size()) < request.max_count; ++i) {
      const StoredMessage& m = q.msgs[static_cast<size_t>(i - q.base)];
      if (request.filter && (!request.filter->match_tag_hash(tag_hash(m.tags())) || !request.filter->match_message(m)))
        continue;
      if (!r.messages.empty() && bytes + m.store_size > request.max_bytes) break;
      bytes += m.store_size;
      r.messages.push_back(m);
    }
    r.next_begin_offset = QueueOffset(i);
    r.status = r.messages.empty() ? GetStatus::kNoMatchedMessage : GetStatus::kFound;
  }
  return r;
}

QueueOffset FakeMessageStore::min_offset(const std::string& topic, QueueId queue_id) {
  std::lock_guard lock(mu_);
  auto it = queues_.find({topic, queue_id});
  return QueueOffset(it == queues_.end() ? 0 : it->second.min);
}

QueueOffset FakeMessageStore::max_offset(const std::string& topic, QueueId queue_id) {
  std::lock_guard lock(mu_);
  auto it = queues_.find({topic, queue_id});
  if (it == queues_.end()) return QueueOffset(0);
  return QueueOffset(it->second.base + static_cast<int64_t>(it->second.msgs.size()));
}

QueueOffset FakeMessageStore::offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) {
  std::lock_guard lock(mu_);
  auto it = queues_.find({topic, queue_id});
  if (it == queues_.end()) return QueueOffset(0);
  const Queue& q = it->second;
  for (int64_t i = q.min; i < q.base + static_cast<int64_t>(q.msgs.size()); ++i)
    if (q.msgs[static_cast<size_t>(i - q.base)].store_timestamp_ms >= timestamp_ms) return QueueOffset(i);
  return QueueOffset(q.base + static_cast<int64_t>(q.msgs.size()));
}

Result<StoredMessage> FakeMessageStore::read_at(CommitLogOffset offset) {
  std::lock_guard lock(mu_);
  auto it = by_offset_.find(offset.value());
  if (it == by_offset_.end())
    return Status(Code::kQueryNotFound, "no record at commit-log offset " + std::to_string(offset.value()));
  return it->second;
}

std::vector<StoredMessage> FakeMessageStore::query_by_key(const std::string& topic, const std::string& key,
                                                          int32_t max_count, int64_t begin_ms, int64_t end_ms) {
  std::vector<StoredMessage> out;
  std::lock_guard lock(mu_);
  for (auto it = by_offset_.rbegin(); it != by_offset_.rend() && static_cast<int32_t>(out.size()) < max_count; ++it) {
    const StoredMessage& m = it->second;
    if (m.topic != topic || m.store_timestamp_ms < begin_ms || (end_ms >= 0 && m.store_timestamp_ms > end_ms)) continue;
    bool match = m.property(prop::kUniqKey) == key;
    std::string_view keys = m.keys();
    while (!match && !keys.empty()) {
      size_t sp = keys.find(' ');
      std::string_view k = keys.substr(0, sp);
      match = !k.empty() && k == key;
      keys = sp == std::string_view::npos ? std::string_view() : keys.substr(sp + 1);
    }
    if (match) out.push_back(m);
  }
  return out;
}

void FakeMessageStore::add_arrival_listener(ArrivalListener listener) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(listener));
}

StoreStats FakeMessageStore::stats() {
  std::lock_guard lock(mu_);
  StoreStats s;
  s.max_commit_log_offset = CommitLogOffset(next_commit_offset_);
  s.flushed_commit_log_offset = CommitLogOffset(next_commit_offset_);
  s.dispatched_commit_log_offset = CommitLogOffset(std::max<int64_t>(0, next_commit_offset_ - dispatch_lag_));
  s.put_count = by_offset_.size();
  s.get_count = get_calls_;
  return s;
}

void FakeMessageStore::set_dispatch_lag(int64_t bytes) {
  std::lock_guard lock(mu_);
  dispatch_lag_ = bytes;
}

void FakeMessageStore::fail_puts_with(Status status) {
  std::lock_guard lock(mu_);
  put_failure_ = std::move(status);
}

void FakeMessageStore::truncate_below(const std::string& topic, QueueId queue_id, QueueOffset offset) {
  std::lock_guard lock(mu_);
  Queue& q = queues_[{topic, queue_id}];
  q.min = std::max(q.min, offset.value());
}

std::vector<StoredMessage> FakeMessageStore::messages(const std::string& topic, QueueId queue_id) {
  std::lock_guard lock(mu_);
  auto it = queues_.find({topic, queue_id});
  if (it == queues_.end()) return {};
  return it->second.msgs;
}

uint64_t FakeMessageStore::put_calls() const {
  std::lock_guard lock(mu_);
  return put_calls_;
}

uint64_t FakeMessageStore::get_calls() const {
  std::lock_guard lock(mu_);
  return get_calls_;
}

std::optional<FakeMessageStore::GetCall> FakeMessageStore::last_get() const {
  std::lock_guard lock(mu_);
  return last_get_;
}

}  // namespace mq::testkit
