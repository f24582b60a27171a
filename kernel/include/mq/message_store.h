// MessageStore: the storage service interface (provided by storage-mmap). The kernel's
// send and pull paths, and later schedule/transaction/ha-sync, use only this.
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mq/message.h"
#include "mq/status.h"
#include "mq/types.h"

namespace mq {

// Outcome of an append. `status` is OK only when the message is stored as the flush mode
// requires (for SYNC_FLUSH: on disk). FLUSH_DISK_TIMEOUT means appended but not known
// durable; SERVICE_NOT_AVAILABLE means not appended (read-only store, disk full).
struct PutResult {
  Status status;
  CommitLogOffset commit_log_offset{0};  // where the record starts
  int32_t wrote_bytes = 0;
  QueueOffset queue_offset{0};
  int64_t store_timestamp_ms = 0;
  std::string offset_msg_id;  // make_offset_msg_id(store host, commit_log_offset)
};

// Called exactly once per put, on a store thread or the caller's thread. Must not block.
using PutCallback = std::function<void(PutResult)>;
using PutBatchCallback = std::function<void(std::vector<PutResult>)>;

// True for the outcomes that still mean "appended" (RocketMQ returns a SendResult with
// FLUSH_DISK_TIMEOUT / FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE): the record is in the log.
inline bool is_appended(const Status& st) {
  return st.is_ok() || st.code() == Code::kFlushDiskTimeout || st.code() == Code::kFlushSlaveTimeout ||
         st.code() == Code::kSlaveNotAvailable;
}

// A message put_views appends by reference: the caller owns every byte viewed and keeps it
// alive until put_views returns (the store copies the bytes before it returns; only the
// completion may run later). The fields mean what StoredMessage's fields of the same name mean.
struct MessageView {
  std::string_view topic;
  QueueId queue_id = 0;
  int32_t flag = 0;
  int32_t sys_flag = 0;
  std::string_view body;
  std::string_view properties;  // encoded: append_encoded_properties (mq/message.h)
  int64_t born_timestamp_ms = 0;
  HostAddress born_host;
  HostAddress store_host;
  int32_t reconsume_times = 0;
  CommitLogOffset prepared_transaction_offset{0};
};

// A view of `m` with `encoded_properties` (append_encoded_properties of m) as its properties.
inline MessageView view_of(const StoredMessage& m, std::string_view encoded_properties) {
  MessageView v;
  v.topic = m.topic;
  v.queue_id = m.queue_id;
  v.flag = m.flag;
  v.sys_flag = m.sys_flag;
  v.body = m.body;
  v.properties = encoded_properties;
  v.born_timestamp_ms = m.born_timestamp_ms;
  v.born_host = m.born_host;
  v.store_host = m.store_host;
  v.reconsume_times = m.reconsume_times;
  v.prepared_transaction_offset = m.prepared_transaction_offset;
  return v;
}

// Where put_views stored one message.
struct PutPosition {
  CommitLogOffset commit_log_offset{0};
  int32_t wrote_bytes = 0;
  QueueOffset queue_offset{0};
};
// One outcome for the whole batch: `positions` has one entry per message, in order, when
// is_appended(status), and is empty otherwise (nothing was appended).
struct PutViewsResult {
  Status status;
  int64_t store_timestamp_ms = 0;
  std::vector<PutPosition> positions;
};
using PutViewsCallback = std::function<void(PutViewsResult)>;

// RocketMQ GetMessageStatus, with the same meaning.
enum class GetStatus {
  kFound,
  kNoMatchedMessage,    // messages exist in range but none matched the filter
  kMessageWasRemoving,  // the commit-log bytes were deleted by retention
  kOffsetFoundNull,
  kOffsetOverflowBadly,  // offset > max offset
  kOffsetOverflowOne,    // offset == max offset: nothing new yet (long-poll candidate)
  kOffsetTooSmall,       // offset < min offset
  kNoMatchedLogicQueue,  // no such (topic, queue)
  kNoMessageInQueue,     // queue exists but is empty
};

// A consumer's filter. The store asks match_tag_hash on the consume-queue unit first
// (cheap), then match_message on the decoded record only if that passed.
class MessageFilter {
 public:
  virtual ~MessageFilter() = default;
  virtual bool match_tag_hash(int64_t tag_hash) const = 0;
  virtual bool match_message(const StoredMessage& msg) const = 0;
};

struct GetRequest {
  std::string topic;
  QueueId queue_id = 0;
  QueueOffset offset{0};
  int32_t max_count = 32;
  int32_t max_bytes = 256 * 1024;
  const MessageFilter* filter = nullptr;  // nullptr: everything; must outlive the call
};

struct GetResult {
  GetStatus status = GetStatus::kNoMatchedLogicQueue;
  QueueOffset next_begin_offset{0};  // where the next pull should start
  QueueOffset min_offset{0};
  QueueOffset max_offset{0};  // one past the last message
  std::vector<StoredMessage> messages;
};

// What get_records answers: get()'s status and offsets, with the found messages as their
// records (mq/message_record.h) back to back instead of decoded.
struct GetRecordsResult {
  GetResult get;  // get.messages stays empty
  std::string records;
  int32_t record_count = 0;
  CommitLogOffset end_of_last{0};  // commit-log offset just past the last record
};

struct StoreStats {
  CommitLogOffset min_commit_log_offset{0};
  CommitLogOffset max_commit_log_offset{0};  // end of the last appended record
  CommitLogOffset flushed_commit_log_offset{0};
  CommitLogOffset dispatched_commit_log_offset{0};  // consume queues built up to here
  // End of the log when recovery finished in start(), before anything was put since
  // (e.g. a new master epoch starts here). -1: the store does not report it.
  CommitLogOffset recovered_commit_log_offset{-1};
  uint64_t put_count = 0;
  uint64_t get_count = 0;
  bool read_only = false;
  std::string read_only_reason;
};

// Called by the dispatcher after the consume-queue unit for a message is written, so
// held pulls can wake. Runs on the dispatcher thread: must be quick and not block.
using ArrivalListener =
    std::function<void(const std::string& topic, QueueId queue_id, QueueOffset next_offset, int64_t tag_hash)>;

// Commit-log bytes for replication (read_raw): whole records (and, at a segment end, the
// 8-byte blank marker) starting at the requested offset. `next_offset` is where the next
// read_raw starts: after the last record, or the next segment's first byte after a marker.
struct RawChunk {
  CommitLogOffset from{0};
  CommitLogOffset next_offset{0};
  std::string bytes;  // empty: nothing at or after `from` yet
};

// Threading: every method is safe from any thread. Lifetime: provided by a plugin; users
// must drop their references before that plugin's stop() returns.
class BOOST_SYMBOL_VISIBLE MessageStore {
 public:
  static constexpr std::string_view kServiceName = "MessageStore";
  virtual ~MessageStore() = default;

  // Appends one message to msg.topic / msg.queue_id. The store assigns the queue offset,
  // commit-log offset, store timestamp and CRC. `done` runs once; never blocks the caller
  // on a disk flush (SYNC_FLUSH completes `done` from the flush thread).
  virtual void put(StoredMessage msg, PutCallback done) = 0;
  // Appends several messages (same topic and queue, consecutive queue offsets) atomically
  // with respect to other puts; one result per message, in order.
  virtual void put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) = 0;

  virtual GetResult get(const GetRequest& request) = 0;
  virtual QueueOffset min_offset(const std::string& topic, QueueId queue_id) = 0;
  // One past the last dispatched message; 0 for an unknown queue.
  virtual QueueOffset max_offset(const std::string& topic, QueueId queue_id) = 0;
  // The first queue offset whose store time is >= timestamp_ms (max offset if none).
  virtual QueueOffset offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) = 0;
  // Reads and CRC-checks the record starting at `offset`.
  virtual Result<StoredMessage> read_at(CommitLogOffset offset) = 0;

  // Messages of `topic` whose KEYS (space-separated) contain `key` or whose UNIQ_KEY equals
  // it, stored within [begin_ms, end_ms] (end_ms < 0: no upper bound), newest first, at most
  // max_count. Served from the key index; every result is re-checked against the record.
  virtual std::vector<StoredMessage> query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                                  int64_t begin_ms, int64_t end_ms) = 0;

  virtual void add_arrival_listener(ArrivalListener listener) = 0;
  virtual StoreStats stats() = 0;

  // ---- additive (issue 3); the defaults serve stores without these features ----

  // put_batch without copies: the messages (one topic and queue, properties pre-encoded)
  // are read in place and written once into the log; one completion for the batch, with
  // positions instead of per-message result strings. SYNC_FLUSH waits unless the first
  // message's WAIT property is "false". The default converts and calls put_batch.
  virtual void put_views(std::span<const MessageView> msgs, PutViewsCallback done) {
    std::vector<StoredMessage> copies(msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
      const MessageView& v = msgs[i];
      StoredMessage& m = copies[i];
      if (std::string bad = decode_encoded_properties(v.properties, &m); !bad.empty())
        return done(
            PutViewsResult{Status::error(Code::kMessageIllegal, "message " + std::to_string(i) + ": " + bad), 0, {}});
      m.topic = v.topic;
      m.queue_id = v.queue_id;
      m.flag = v.flag;
      m.sys_flag = v.sys_flag;
      m.body = v.body;
      m.born_timestamp_ms = v.born_timestamp_ms;
      m.born_host = v.born_host;
      m.store_host = v.store_host;
      m.reconsume_times = v.reconsume_times;
      m.prepared_transaction_offset = v.prepared_transaction_offset;
    }
    put_batch(std::move(copies), [done = std::move(done)](std::vector<PutResult> puts) {
      PutViewsResult out;
      for (const PutResult& p : puts)
        if (!p.status.is_ok()) {
          out.status = p.status;
          break;
        }
      if (puts.empty() || !is_appended(out.status)) return done(std::move(out));
      out.store_timestamp_ms = puts.front().store_timestamp_ms;
      out.positions.reserve(puts.size());
      for (const PutResult& p : puts)
        out.positions.push_back(PutPosition{p.commit_log_offset, p.wrote_bytes, p.queue_offset});
      done(std::move(out));
    });
  }

  // get() answered with copies of the stored records instead of decoded messages (the pull
  // path when a client asks for records): same selection, filter and limits. False: this
  // store keeps no records in that format; the caller uses get().
  virtual bool get_records(const GetRequest& request, GetRecordsResult* out) {
    (void)request, (void)out;
    return false;
  }

  // The message whose offset message id (make_offset_msg_id) is `msg_id`.
  virtual Result<StoredMessage> read_by_msg_id(std::string_view msg_id) {
    HostAddress host;
    CommitLogOffset offset{0};
    if (!decode_offset_msg_id(msg_id, &host, &offset))
      return Status::invalid("message id " + std::string(msg_id) + " is not a 32-hex-digit offset message id");
    return read_at(offset);
  }
  // Replication, master side: commit-log bytes from `from` (a record boundary), at most
  // `max_bytes` but always at least one whole record when one is there.
  virtual Result<RawChunk> read_raw(CommitLogOffset from, int32_t max_bytes) {
    (void)from, (void)max_bytes;
    return Status::error(Code::kRequestCodeNotSupported, "this message store has no raw commit-log access");
  }
  // Replication, slave side: appends bytes produced by a master's read_raw at `at`, which
  // must equal the current end of the log; the bytes must be whole, valid records (CRC
  // checked, PHYSICALOFFSET equal to their position). They are indexed like puts.
  // Returns the new end of the log. Durability follows the flush mode's timer (no wait).
  virtual Result<CommitLogOffset> append_raw(CommitLogOffset at, std::string_view bytes) {
    (void)at, (void)bytes;
    return Status::error(Code::kRequestCodeNotSupported, "this message store has no raw commit-log access");
  }
  // Replication, slave side (issue 8): drops every record at and after `end` (a record
  // boundary at or below the current end) from the commit log, the consume queues and the
  // key index, as recovery does for a torn tail, so a diverged slave can re-replicate from
  // its last common point with the master. Returns the new end of the log. Puts and
  // append_raw calls that race with it may fail with SERVICE_NOT_AVAILABLE.
  virtual Result<CommitLogOffset> truncate_to(CommitLogOffset end) {
    (void)end;
    return Status::error(Code::kRequestCodeNotSupported, "this message store cannot truncate its commit log");
  }
};

}  // namespace mq
