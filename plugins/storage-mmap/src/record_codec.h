// The commit-log record format (FORMAT.md §2): encoding a StoredMessage, validating a
// record in place (magic, lengths, offset, CRC-32C over all bytes but the CRC field),
// and decoding it back.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mq/message.h"
#include "mq/message_record.h"
#include "mq/message_store.h"
#include "mq/status.h"

namespace mq::storage_mmap {

// The record layout is the kernel's message record (mq/message_record.h); FORMAT.md §2.
inline constexpr uint32_t kMagicV1 = record::kMagicV1;
inline constexpr uint32_t kBlankMagic = 0xCBD43194u;
inline constexpr int32_t kBlankSize = 8;  // [int32 remaining][int32 kBlankMagic]
inline constexpr int32_t kFixedOverhead = record::kFixedOverhead;
inline constexpr int32_t kMaxPropertiesLength = 32767;

// Field positions (bytes from the record start).
namespace pos {
using namespace mq::record::pos;
// Bytes [kTail, end) do not change once encoded; [0, kTail) holds the fields patched under
// the put lock (queue offset, physical offset, store timestamp) and the CRC.
inline constexpr int kTail = 64;
}  // namespace pos

// PREPARED and ROLLBACK records (mq/message.h transaction types) get no consume-queue
// unit and queue offset 0.
inline bool consumes_queue_offset(int32_t sys_flag) {
  int32_t t = sys_flag & kTransactionTypeMask;
  return t != kTransactionPreparedType && t != kTransactionRollbackType;
}

// The properties the dispatcher indexes by, as views into encoded properties.
struct PropertyFacts {
  int64_t tag_hash = 0;       // tag_hash(TAGS property), 0 without tags
  std::string_view keys;      // KEYS property (space separated), empty without
  std::string_view uniq_key;  // UNIQ_KEY property, empty without
};
// Fills `out` from encoded properties; returns empty, or what is malformed (the facts then
// come from the entries before it).
std::string scan_property_facts(std::string_view encoded_properties, PropertyFacts* out);

// a == b, without reading the bytes when both view the same ones (a batch's messages often
// view one topic and one queue key), and without a call for texts of 8 to 16 bytes (most
// topic names: two overlapping words).
inline bool same_text(std::string_view a, std::string_view b) noexcept {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (a.data() == b.data()) return true;
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

// Returns the record size for `msg`, or MESSAGE_ILLEGAL naming what is wrong (topic,
// queue id, property characters or length, body over max_message_size, record over
// max_record_size).
Result<int32_t> validate_message(const StoredMessage& msg, int64_t max_message_size, int64_t max_record_size);
// The same for a view with pre-encoded properties (their syntax is checked: every entry
// "name\x01value\x02" with a non-empty name and one \x01). The topic name is the caller's
// to check (once per batch).
// With `facts`, also fills them (scan_property_facts) in the same pass.
Result<int32_t> validate_view(const MessageView& msg, int64_t max_message_size, int64_t max_record_size,
                              PropertyFacts* facts = nullptr);

// A record planned outside the put lock: its fixed 88-byte header (all but queue offset,
// physical offset, store timestamp and CRC), views of body, topic and encoded properties
// (owned by the caller: the message and a properties buffer, which must outlive the
// append). The record is then written once, straight into its place in the segment, and
// checksummed there (write_record).
struct RecordPlan {
  char header[pos::kBody];
  std::string_view body;
  std::string_view topic;
  std::string_view props;
  int32_t size = 0;
  int32_t sys_flag = 0;
  PropertyFacts facts;  // of props: what the dispatcher needs besides the header fields
};
// Precondition: validate_message(msg) succeeded. `props_buf` receives the encoded
// properties (reused: no allocation once it has grown); `out->props` views it.
void plan_record(const StoredMessage& msg, const HostAddress& store_host, std::string* props_buf, RecordPlan* out);
// Precondition: validate_view(msg) succeeded. `out` views msg's bytes.
void plan_record(const MessageView& msg, const HostAddress& store_host, RecordPlan* out,
                 const PropertyFacts* facts = nullptr);
// Writes the whole record (plan.size bytes) to `dst` with the three late fields and its
// CRC, computed over `dst` (a large body is checksummed while it is copied).
void write_record(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                  int64_t store_timestamp_ms);

// write_record in two steps, for records that checksum best read back from the segment
// (seals_later): the bytes with a zero CRC field, then the CRC. A writer of many records
// seals each one after writing the next, so the read-back never waits for the stores just
// made (the CRC's loads and the next record's stores overlap).
bool seals_later(const RecordPlan& plan) noexcept;
void write_record_unsealed(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                           int64_t store_timestamp_ms);
void seal_record(char* rec, int32_t size);

// Writes planned records one after another, each that seals_later sealed once the next one
// is written. seal_pending() before the written bytes are read, staged out or published.
class RecordWriter {
 public:
  void write(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
             int64_t store_timestamp_ms);
  void seal_pending();

 private:
  char* unsealed_ = nullptr;  // the last record written, its CRC field still 0
  int32_t unsealed_size_ = 0;
};

// An encoded record waiting for its offsets (tests and tools; the store writes plans). `tail_crc` is crc32c of bytes
// [pos::kTail, end).
struct EncodedRecord {
  std::string bytes;
  uint32_t tail_crc = 0;
  uint32_t tail_shift = 0;  // crc32c_shift_operator(bytes.size() - pos::kTail)
};
// Encodes everything but queue offset, physical offset, store timestamp and CRC.
// Precondition: validate_message(msg) succeeded.
void encode_record(const StoredMessage& msg, const HostAddress& store_host, EncodedRecord* out);
// Patches the three late fields into `rec` and writes the CRC, combining the precomputed
// tail CRC with the combine operator EncodedRecord::tail_shift: O(1), called under the put lock.
void finalize_record(char* rec, uint32_t tail_crc, uint32_t tail_shift, int64_t queue_offset, int64_t physical_offset,
                     int64_t store_timestamp_ms);
// CRC of a whole record as stored in its CRC field (covers all bytes except [8, 12)).
uint32_t record_crc(const char* rec, int32_t size);

enum class RecordKind { kRecord, kBlank, kEnd, kCorrupt };
struct RecordCheck {
  RecordKind kind = RecordKind::kCorrupt;
  int32_t size = 0;    // record size (kRecord) or blank length (kBlank)
  std::string reason;  // for kCorrupt
};
// Checks the bytes at `p`, which sit at global `offset`, with `avail` bytes to the end of
// the segment. kEnd: zero-filled (never written). kBlank: the end-of-segment marker.
// kCorrupt: anything else that is not a whole valid record.
struct RecordSummary;
// `summary` (optional) gets summarize_record's answer for a kRecord, from the same parse.
RecordCheck check_record(const char* p, int64_t avail, int64_t offset, bool verify_crc,
                         RecordSummary* summary = nullptr);

// What the dispatcher needs from a record, without copying body or properties.
struct RecordSummary {
  std::string_view topic;
  QueueId queue_id = 0;
  int64_t queue_offset = 0;
  int32_t sys_flag = 0;
  int64_t store_timestamp_ms = 0;
  int64_t tag_hash = 0;       // PropertyFacts
  std::string_view keys;      // PropertyFacts
  std::string_view uniq_key;  // PropertyFacts
  // Empty, or what is malformed in the properties (the fields above then come from the
  // entries before it). Puts validate properties; replicated bytes are checked with this.
  std::string properties_error;
};
// Precondition: check_record(...) returned kRecord for these bytes.
RecordSummary summarize_record(const char* rec);
// Precondition: check_record(...) returned kRecord for these bytes.
StoredMessage decode_record(const char* rec);

// Properties as stored: "k\x01v\x02" per entry.
std::string encode_properties(const Message& msg);

}  // namespace mq::storage_mmap
