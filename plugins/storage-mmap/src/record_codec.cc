// Commit-log record encode / check / decode (layout in FORMAT.md §2).
#include "record_codec.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "byte_order.h"
#include "crc32c.h"

namespace mq::storage_mmap {
namespace {

size_t properties_length(const Message& msg) {
  size_t n = 0;
  for (const auto& [k, v] : msg.properties) n += k.size() + v.size() + 2;
  return n;
}

void put_host(char* p, const HostAddress& h) {
  put_be32(p, h.ipv4);
  put_be32(p + 4, static_cast<uint32_t>(h.port));
}

}  // namespace

// The checks shared by messages and views once the properties are known to be well formed.
Result<int32_t> validate_sizes(std::string_view topic, QueueId queue_id, size_t body, size_t props,
                               int64_t max_message_size, int64_t max_record_size) {
  if (queue_id < 0)
    return Status::error(Code::kMessageIllegal,
                         "queue id " + std::to_string(queue_id) + " of topic " + std::string(topic) + " is negative");
  if (props > static_cast<size_t>(kMaxPropertiesLength))
    return Status::error(Code::kMessageIllegal, "properties take " + std::to_string(props) + " bytes; the limit is " +
                                                    std::to_string(kMaxPropertiesLength));
  if (static_cast<int64_t>(body) > max_message_size)
    return Status::error(Code::kMessageIllegal, "message body is " + std::to_string(body) +
                                                    " bytes; maxMessageSize is " + std::to_string(max_message_size));
  int64_t size =
      kFixedOverhead + static_cast<int64_t>(body) + static_cast<int64_t>(topic.size()) + static_cast<int64_t>(props);
  if (size > max_record_size)
    return Status::error(Code::kMessageIllegal,
                         "record of " + std::to_string(size) + " bytes does not fit in a commit-log segment (at most " +
                             std::to_string(max_record_size) +
                             " bytes per record); raise storage-mmap.mapedFileSizeCommitLog or send a smaller message");
  return static_cast<int32_t>(size);
}

Result<int32_t> validate_message(const StoredMessage& msg, int64_t max_message_size, int64_t max_record_size) {
  if (std::string why = validate_topic_name(msg.topic); !why.empty()) return Status::error(Code::kMessageIllegal, why);
  if (std::string why = check_property_characters(msg); !why.empty()) return Status::error(Code::kMessageIllegal, why);
  return validate_sizes(msg.topic, msg.queue_id, msg.body.size(), properties_length(msg), max_message_size,
                        max_record_size);
}

namespace {

// The fact entry `name` = `value` gives, if any (the last of repeated names wins, as when
// decoding).
static_assert(prop::kTags.size() == 4 && prop::kKeys.size() == 4 && prop::kUniqKey.size() == 8);
[[gnu::always_inline]] inline void note_fact(std::string_view name, std::string_view value, PropertyFacts* out) {
  if (name.size() != 4 && name.size() != 8) return;  // every fact's name has 4 or 8 bytes
  if (name == prop::kTags) {
    out->tag_hash = tag_hash(value);
  } else if (name == prop::kKeys) {
    out->keys = value;
  } else if (name == prop::kUniqKey) {
    out->uniq_key = value;
  }
}

}  // namespace

Result<int32_t> validate_view(const MessageView& msg, int64_t max_message_size, int64_t max_record_size,
                              PropertyFacts* facts) {
  // Each entry a non-empty name, one \x01, a value without separators, \x02: the walk that
  // finds the facts checks that too.
  const std::string_view p = msg.properties;
  PropertyFacts unused;
  std::string bad = scan_property_facts(p, facts ? facts : &unused);
  if (!bad.empty()) return Status::error(Code::kMessageIllegal, "encoded properties: " + bad);
  return validate_sizes(msg.topic, msg.queue_id, msg.body.size(), p.size(), max_message_size, max_record_size);
}

std::string encode_properties(const Message& msg) {
  std::string out;
  out.reserve(properties_length(msg));
  append_encoded_properties(msg, &out);
  return out;
}

void plan_record(const StoredMessage& msg, const HostAddress& store_host, std::string* props_buf, RecordPlan* out) {
  props_buf->clear();
  append_encoded_properties(msg, props_buf);
  plan_record(view_of(msg, *props_buf), store_host, out);
}

namespace {

#if defined(__x86_64__)
// Properties of 1 to 64 bytes (a message's TAGS, KEYS and UNIQ_KEY usually are) judged
// without a branch per separator: with the \x01 and \x02 positions as bit masks, they are
// well formed when the separators alternate starting with \x01 (the \x01 bits, gathered
// over all separators, read 0b0101...), the last byte is \x02 and no entry starts with
// \x01 (an empty name). False, with `out` untouched, when they are not: the general walk
// then names the fault.
__attribute__((target("avx512f,avx512bw,bmi,bmi2,popcnt"))) bool scan_short_properties(const char* d, size_t n,
                                                                                       PropertyFacts* out) {
  const uint64_t live = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  const __m512i v = _mm512_maskz_loadu_epi8(live, d);  // bytes past n read as 0, never touched
  const uint64_t names = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(kPropertyNameEnd));
  const uint64_t ends = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(kPropertyEnd));
  const uint64_t all = names | ends;
  const int count = __builtin_popcountll(all);
  const uint64_t alternate = uint64_t{0x5555555555555555} & (count == 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1);
  if (!((ends >> (n - 1)) & 1) || (count & 1) || _pext_u64(names, all) != alternate || (names & ((ends << 1) | 1)))
    return false;
  size_t entry = 0;
  for (uint64_t e = ends, s = names; e != 0; e &= e - 1, s &= s - 1) {
    const auto end = static_cast<size_t>(__builtin_ctzll(e));
    const auto sep = static_cast<size_t>(__builtin_ctzll(s));
    note_fact(std::string_view(d + entry, sep - entry), std::string_view(d + sep + 1, end - sep - 1), out);
    entry = end + 1;
  }
  return true;
}

bool cpu_has_short_scan() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("bmi2") &&
         __builtin_cpu_supports("popcnt");
}
#endif

}  // namespace

std::string scan_property_facts(std::string_view encoded_properties, PropertyFacts* out) {
  // Finds TAGS, KEYS and UNIQ_KEY without building the property map.
  if (encoded_properties.empty()) return {};
#if defined(__x86_64__)
  static const bool kShortScan = cpu_has_short_scan();
  if (kShortScan && encoded_properties.size() <= 64 &&
      scan_short_properties(encoded_properties.data(), encoded_properties.size(), out))
    return {};
#endif
  return record::for_each_encoded_property(
      encoded_properties, [out](std::string_view name, std::string_view value) { note_fact(name, value, out); });
}

void plan_record(const MessageView& msg, const HostAddress& store_host, RecordPlan* out, const PropertyFacts* facts) {
  const std::string_view props = msg.properties;
  const size_t size = kFixedOverhead + msg.body.size() + msg.topic.size() + props.size();
  char* p = out->header;
  put_be32(p + pos::kTotalSize, static_cast<uint32_t>(size));
  put_be32(p + pos::kMagic, kMagicV1);
  put_be32(p + pos::kCrc, 0);
  put_be32(p + pos::kQueueId, static_cast<uint32_t>(msg.queue_id));
  put_be32(p + pos::kFlag, static_cast<uint32_t>(msg.flag));
  put_be64(p + pos::kQueueOffset, 0);
  put_be64(p + pos::kPhysicalOffset, 0);
  put_be32(p + pos::kSysFlag, static_cast<uint32_t>(msg.sys_flag));
  put_be64(p + pos::kBornTimestamp, static_cast<uint64_t>(msg.born_timestamp_ms));
  put_host(p + pos::kBornHost, msg.born_host);
  put_be64(p + pos::kStoreTimestamp, 0);
  put_host(p + pos::kStoreHost, store_host);
  put_be32(p + pos::kReconsumeTimes, static_cast<uint32_t>(msg.reconsume_times));
  put_be64(p + pos::kPreparedOffset, static_cast<uint64_t>(msg.prepared_transaction_offset.value()));
  put_be32(p + pos::kBodyLength, static_cast<uint32_t>(msg.body.size()));
  out->body = msg.body;
  out->topic = msg.topic;
  out->props = props;
  out->size = static_cast<int32_t>(size);
  out->sys_flag = msg.sys_flag;
  if (facts) {
    out->facts = *facts;
  } else {
    out->facts = PropertyFacts{};
    (void)scan_property_facts(props, &out->facts);  // validated by the caller (validate_view)
  }
}

namespace {

// From this body size on, write_record copies the body and checksums it in one pass; below,
// it copies everything and then checksums the record in one call (small pieces apart cost
// more in the CRC's fixed per-call work than the second read of bytes in L1), which a writer
// of many records does one record later (seals_later).
constexpr size_t kFusedCopyMinBody = 512;

// Topic length, topic, properties length, properties: the record's last bytes, from `q`.
void write_suffix(char* q, const RecordPlan& plan) {
  *q++ = static_cast<char>(plan.topic.size());
  std::memcpy(q, plan.topic.data(), plan.topic.size());
  q += plan.topic.size();
  put_be16(q, static_cast<uint16_t>(plan.props.size()));
  std::memcpy(q + 2, plan.props.data(), plan.props.size());
}

// The three fields known only under the put lock.
void put_late_fields(char* rec, int64_t queue_offset, int64_t physical_offset, int64_t store_timestamp_ms) {
  put_be64(rec + pos::kQueueOffset, static_cast<uint64_t>(queue_offset));
  put_be64(rec + pos::kPhysicalOffset, static_cast<uint64_t>(physical_offset));
  put_be64(rec + pos::kStoreTimestamp, static_cast<uint64_t>(store_timestamp_ms));
}

// The planned header with its late fields; the CRC field stays 0.
void write_header(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                  int64_t store_timestamp_ms) {
  std::memcpy(dst, plan.header, pos::kBody);
  put_late_fields(dst, queue_offset, physical_offset, store_timestamp_ms);
}

}  // namespace

bool seals_later(const RecordPlan& plan) noexcept {
  return plan.body.size() < kFusedCopyMinBody;
}

void write_record_unsealed(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                           int64_t store_timestamp_ms) {
  write_header(dst, plan, queue_offset, physical_offset, store_timestamp_ms);
  std::memcpy(dst + pos::kBody, plan.body.data(), plan.body.size());
  write_suffix(dst + pos::kBody + plan.body.size(), plan);
}

void seal_record(char* rec, int32_t size) {
  put_be32(rec + pos::kCrc, record_crc(rec, size));
}

void RecordWriter::write(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                         int64_t store_timestamp_ms) {
  const bool later = seals_later(plan);
  if (later) {
    write_record_unsealed(dst, plan, queue_offset, physical_offset, store_timestamp_ms);
  } else {
    write_record(dst, plan, queue_offset, physical_offset, store_timestamp_ms);
  }
  seal_pending();
  if (later) {
    unsealed_ = dst;
    unsealed_size_ = plan.size;
  }
}

void RecordWriter::seal_pending() {
  if (unsealed_) seal_record(unsealed_, unsealed_size_);
  unsealed_ = nullptr;
}

void write_record(char* dst, const RecordPlan& plan, int64_t queue_offset, int64_t physical_offset,
                  int64_t store_timestamp_ms) {
  const size_t body_size = plan.body.size();
  char* const suffix = dst + pos::kBody + body_size;
  const size_t suffix_size = static_cast<size_t>(plan.size) - pos::kBody - body_size;
  if (body_size < kFusedCopyMinBody) {
    write_record_unsealed(dst, plan, queue_offset, physical_offset, store_timestamp_ms);
    seal_record(dst, plan.size);
    return;
  }
  write_header(dst, plan, queue_offset, physical_offset, store_timestamp_ms);
  uint32_t crc = crc32c_8_then(dst, dst + pos::kQueueId, pos::kBody - pos::kQueueId);
  crc = crc32c_copy(crc, dst + pos::kBody, plan.body.data(), body_size);
  write_suffix(suffix, plan);
  crc = crc32c_extend(crc, suffix, suffix_size);
  put_be32(dst + pos::kCrc, crc);
}

void encode_record(const StoredMessage& msg, const HostAddress& store_host, EncodedRecord* out) {
  thread_local std::string props;
  RecordPlan plan;
  plan_record(msg, store_host, &props, &plan);
  // resize, not assign: a reused buffer of the same size is not cleared again (every byte
  // is written by write_record).
  out->bytes.resize(static_cast<size_t>(plan.size));
  write_record(out->bytes.data(), plan, 0, 0, 0);
  out->tail_crc = crc32c(out->bytes.data() + pos::kTail, out->bytes.size() - pos::kTail);
  out->tail_shift = crc32c_shift_operator(out->bytes.size() - pos::kTail);
}

void finalize_record(char* rec, uint32_t tail_crc, uint32_t tail_shift, int64_t queue_offset, int64_t physical_offset,
                     int64_t store_timestamp_ms) {
  put_late_fields(rec, queue_offset, physical_offset, store_timestamp_ms);
  uint32_t head = crc32c(rec, pos::kCrc);
  head = crc32c_extend(head, rec + pos::kQueueId, pos::kTail - pos::kQueueId);
  put_be32(rec + pos::kCrc, crc32c_combine_op(head, tail_crc, tail_shift));
}

uint32_t record_crc(const char* rec, int32_t size) {
  static_assert(pos::kCrc == 8);
  return crc32c_8_then(rec, rec + pos::kQueueId, static_cast<size_t>(size - pos::kQueueId));
}

namespace {

RecordSummary summary_of(const record::RecordView& v) {
  RecordSummary s;
  s.topic = v.topic;
  s.queue_id = v.queue_id;
  s.queue_offset = v.queue_offset;
  s.sys_flag = v.sys_flag;
  s.store_timestamp_ms = v.store_timestamp_ms;
  PropertyFacts facts;
  s.properties_error = scan_property_facts(v.properties, &facts);
  s.tag_hash = facts.tag_hash;
  s.keys = facts.keys;
  s.uniq_key = facts.uniq_key;
  return s;
}

}  // namespace

RecordCheck check_record(const char* p, int64_t avail, int64_t offset, bool verify_crc, RecordSummary* summary) {
  RecordCheck out;
  auto corrupt = [&](std::string why) {
    out.kind = RecordKind::kCorrupt;
    out.reason = "record at commit-log offset " + std::to_string(offset) + ": " + std::move(why);
    return out;
  };
  if (avail < kBlankSize) {
    // Too short to hold anything: only valid if never written.
    for (int64_t i = 0; i < avail; ++i)
      if (p[i] != 0) return corrupt("non-zero bytes in the last " + std::to_string(avail) + " bytes of a segment");
    out.kind = RecordKind::kEnd;
    return out;
  }
  int32_t size = static_cast<int32_t>(get_be32(p + pos::kTotalSize));
  uint32_t magic = get_be32(p + pos::kMagic);
  if (size == 0 && magic == 0) {
    out.kind = RecordKind::kEnd;
    return out;
  }
  if (magic == kBlankMagic) {
    if (size != avail)
      return corrupt("end-of-segment marker says " + std::to_string(size) + " bytes remain but " +
                     std::to_string(avail) + " do");
    out.kind = RecordKind::kBlank;
    out.size = size;
    return out;
  }
  if (magic != kMagicV1) return corrupt("bad magic code " + std::to_string(magic));
  if (size < kFixedOverhead || size > avail)
    return corrupt("size " + std::to_string(size) + " is impossible (" + std::to_string(avail) +
                   " bytes left in the segment)");
  record::RecordView view;
  if (std::string why = record::parse_record(std::string_view(p, static_cast<size_t>(size)), &view); !why.empty())
    return corrupt(std::move(why));
  if (view.commit_log_offset != offset)
    return corrupt("physical offset field says " + std::to_string(view.commit_log_offset));
  if (verify_crc) {
    uint32_t stored = get_be32(p + pos::kCrc);
    uint32_t actual = record_crc(p, size);
    if (stored != actual)
      return corrupt("CRC mismatch (stored " + std::to_string(stored) + ", computed " + std::to_string(actual) + ")");
  }
  out.kind = RecordKind::kRecord;
  out.size = size;
  if (summary) *summary = summary_of(view);
  return out;
}

RecordSummary summarize_record(const char* rec) {
  record::RecordView v;
  record::parse_record(std::string_view(rec, get_be32(rec + pos::kTotalSize)), &v);  // checked by check_record
  return summary_of(v);
}

StoredMessage decode_record(const char* rec) {
  record::RecordView v;
  record::parse_record(std::string_view(rec, get_be32(rec + pos::kTotalSize)), &v);  // checked by check_record
  StoredMessage m;
  m.store_size = v.size;
  m.body_crc = v.crc;
  m.queue_id = v.queue_id;
  m.flag = v.flag;
  m.queue_offset = QueueOffset(v.queue_offset);
  m.commit_log_offset = CommitLogOffset(v.commit_log_offset);
  m.sys_flag = v.sys_flag;
  m.born_timestamp_ms = v.born_timestamp_ms;
  m.born_host = HostAddress{v.born_ipv4, v.born_port};
  m.store_timestamp_ms = v.store_timestamp_ms;
  m.store_host = HostAddress{v.store_ipv4, v.store_port};
  m.reconsume_times = v.reconsume_times;
  m.prepared_transaction_offset = CommitLogOffset(v.prepared_transaction_offset);
  m.body.assign(v.body);
  m.topic.assign(v.topic);
  decode_encoded_properties(v.properties, &m);  // well formed: checked when it was put
  return m;
}

}  // namespace mq::storage_mmap
