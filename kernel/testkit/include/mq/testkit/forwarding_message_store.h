// ForwardingMessageStore: a MessageStore that forwards every call to another one, so a test
// decorator (a store whose flushed offset lags, whose puts fail on demand, that records
// callers) overrides only what it changes. put_views is not forwarded: its default converts
// to this->put_batch, so a decorator of put_batch sees those puts too.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mq/message_store.h"

namespace mq::testkit {

// Threading: as the inner store. Ownership: shares the inner store.
class ForwardingMessageStore : public MessageStore {
 public:
  explicit ForwardingMessageStore(std::shared_ptr<MessageStore> inner) : inner_(std::move(inner)) {}

  void put(StoredMessage msg, PutCallback done) override { inner_->put(std::move(msg), std::move(done)); }
  void put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) override {
    inner_->put_batch(std::move(msgs), std::move(done));
  }
  GetResult get(const GetRequest& request) override { return inner_->get(request); }
  // Forwarded too: a decorator that changes get() must also override get_records (or return
  // false from it) for pulls that ask for records to see the change.
  bool get_records(const GetRequest& request, GetRecordsResult* out) override {
    return inner_->get_records(request, out);
  }
  QueueOffset min_offset(const std::string& topic, QueueId queue_id) override {
    return inner_->min_offset(topic, queue_id);
  }
  QueueOffset max_offset(const std::string& topic, QueueId queue_id) override {
    return inner_->max_offset(topic, queue_id);
  }
  QueueOffset offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) override {
    return inner_->offset_by_time(topic, queue_id, timestamp_ms);
  }
  Result<StoredMessage> read_at(CommitLogOffset offset) override { return inner_->read_at(offset); }
  std::vector<StoredMessage> query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                          int64_t begin_ms, int64_t end_ms) override {
    return inner_->query_by_key(topic, key, max_count, begin_ms, end_ms);
  }
  void add_arrival_listener(ArrivalListener listener) override { inner_->add_arrival_listener(std::move(listener)); }
  StoreStats stats() override { return inner_->stats(); }
  Result<StoredMessage> read_by_msg_id(std::string_view msg_id) override { return inner_->read_by_msg_id(msg_id); }
  Result<RawChunk> read_raw(CommitLogOffset from, int32_t max_bytes) override {
    return inner_->read_raw(from, max_bytes);
  }
  Result<CommitLogOffset> append_raw(CommitLogOffset at, std::string_view bytes) override {
    return inner_->append_raw(at, bytes);
  }
  Result<CommitLogOffset> truncate_to(CommitLogOffset offset) override { return inner_->truncate_to(offset); }

 protected:
  MessageStore& inner() { return *inner_; }

 private:
  std::shared_ptr<MessageStore> inner_;
};

}  // namespace mq::testkit
