// RawLogStore: an in-memory MessageStore for ha-sync tests whose commit log is a byte string
// of records [u32 length][payload] with read_raw / append_raw / truncate_to, so a master and a
// slave can replicate in one process. The testkit's FakeMessageStore has no raw access.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "mq/message_store.h"

namespace mq::ha::testing {

// Threading: every method is safe from any thread.
class RawLogStore final : public MessageStore {
 public:
  // Appends one record holding `payload`; returns [begin, end).
  StoredRange append(const std::string& payload) {
    std::lock_guard lock(mu_);
    StoredRange r{CommitLogOffset(static_cast<int64_t>(log_.size())), CommitLogOffset(0)};
    put_u32(static_cast<uint32_t>(payload.size() + 4));
    log_ += payload;
    r.end = CommitLogOffset(static_cast<int64_t>(log_.size()));
    starts_.insert(r.begin.value());
    return r;
  }
  std::string bytes() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  int64_t end() const {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(log_.size());
  }
  // What stats() reports as recovered_commit_log_offset (-1: not reported).
  void set_recovered(int64_t end) {
    std::lock_guard lock(mu_);
    recovered_ = end;
  }
  uint64_t truncations() const {
    std::lock_guard lock(mu_);
    return truncations_;
  }

  Result<RawChunk> read_raw(CommitLogOffset from, int32_t max_bytes) override {
    std::lock_guard lock(mu_);
    const auto f = static_cast<size_t>(from.value());
    if (f > log_.size()) return Status::error(Code::kQueryNotFound, "beyond the end");
    RawChunk c;
    c.from = from;
    size_t p = f;
    while (p < log_.size()) {
      if (!starts_.contains(static_cast<int64_t>(p))) return Status::system("not a record boundary");
      uint32_t len = get_u32(p);
      if (p > f && p + len - f > static_cast<size_t>(max_bytes)) break;
      p += len;
    }
    c.bytes = log_.substr(f, p - f);
    c.next_offset = CommitLogOffset(static_cast<int64_t>(p));
    return c;
  }

  Result<CommitLogOffset> append_raw(CommitLogOffset at, std::string_view bytes) override {
    std::lock_guard lock(mu_);
    if (static_cast<size_t>(at.value()) != log_.size())
      return Status::invalid("append_raw at " + std::to_string(at.value()) + " but the log ends at " +
                             std::to_string(log_.size()));
    size_t p = 0;
    std::set<int64_t> starts;
    while (p < bytes.size()) {
      if (bytes.size() - p < 4) return Status::invalid("partial record");
      uint32_t len = 0;
      for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>(bytes[p + i]);
      if (len < 4 || len > bytes.size() - p) return Status::invalid("partial record");
      starts.insert(static_cast<int64_t>(log_.size() + p));
      p += len;
    }
    log_.append(bytes);
    starts_.insert(starts.begin(), starts.end());
    return CommitLogOffset(static_cast<int64_t>(log_.size()));
  }

  Result<CommitLogOffset> truncate_to(CommitLogOffset end) override {
    std::lock_guard lock(mu_);
    const auto e = static_cast<size_t>(end.value());
    if (e > log_.size() || (e < log_.size() && !starts_.contains(end.value())))
      return Status::invalid("not a record boundary");
    log_.resize(e);
    starts_.erase(starts_.lower_bound(end.value()), starts_.end());
    ++truncations_;
    return end;
  }

  StoreStats stats() override {
    std::lock_guard lock(mu_);
    StoreStats s;
    s.max_commit_log_offset = CommitLogOffset(static_cast<int64_t>(log_.size()));
    s.flushed_commit_log_offset = s.max_commit_log_offset;
    s.dispatched_commit_log_offset = s.max_commit_log_offset;
    s.recovered_commit_log_offset = CommitLogOffset(recovered_);
    return s;
  }

  // ---- not used by ha-sync ----
  void put(StoredMessage, PutCallback done) override {
    PutResult r;
    r.status = Status::invalid("use append()");
    done(std::move(r));
  }
  void put_batch(std::vector<StoredMessage>, PutBatchCallback done) override { done({}); }
  GetResult get(const GetRequest&) override { return {}; }
  QueueOffset min_offset(const std::string&, QueueId) override { return QueueOffset(0); }
  QueueOffset max_offset(const std::string&, QueueId) override { return QueueOffset(0); }
  QueueOffset offset_by_time(const std::string&, QueueId, int64_t) override { return QueueOffset(0); }
  Result<StoredMessage> read_at(CommitLogOffset) override { return Status::invalid("not supported"); }
  std::vector<StoredMessage> query_by_key(const std::string&, const std::string&, int32_t, int64_t, int64_t) override {
    return {};
  }
  void add_arrival_listener(ArrivalListener) override {}

 private:
  void put_u32(uint32_t v) {
    for (int i = 3; i >= 0; --i) log_.push_back(static_cast<char>(v >> (8 * i)));
  }
  uint32_t get_u32(size_t p) const {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(log_[p + i]);
    return v;
  }

  mutable std::mutex mu_;
  std::string log_;
  std::set<int64_t> starts_;
  int64_t recovered_ = -1;
  uint64_t truncations_ = 0;
};

}  // namespace mq::ha::testing
