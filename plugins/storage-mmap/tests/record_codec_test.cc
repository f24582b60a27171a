// Commit-log record codec: round trip, CRC coverage, validation, blank/end detection.
#include "record_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "byte_order.h"
#include "fake_host.h"

namespace mq::storage_mmap {
namespace {

using testing::make_message;

EncodedRecord encode_at(const StoredMessage& m, int64_t offset) {
  EncodedRecord rec;
  encode_record(m, HostAddress{0x7F000001, 10911}, &rec);
  finalize_record(rec.bytes.data(), rec.tail_crc, rec.tail_shift, 7, offset, 123456789);
  return rec;
}

TEST(RecordCodecTest, RoundTripWithProperties) {
  StoredMessage m = make_message("TopicA", 3, std::string("body\0with\x01nul", 14), "TagA");
  m.flag = 42;
  m.sys_flag = 0x8;
  m.reconsume_times = 2;
  m.prepared_transaction_offset = CommitLogOffset(999);
  m.set_property("UNIQ_KEY", "ABCDEF");
  m.set_property("empty", "");
  auto size = validate_message(m, 1 << 20, 1 << 20);
  ASSERT_TRUE(size) << size.status().to_string();
  EncodedRecord rec = encode_at(m, 4096);
  ASSERT_EQ(static_cast<int32_t>(rec.bytes.size()), *size);
  EXPECT_EQ(get_be32(rec.bytes.data()), rec.bytes.size());
  EXPECT_EQ(get_be32(rec.bytes.data() + 4), kMagicV1);

  RecordCheck c = check_record(rec.bytes.data(), 1 << 20, 4096, true);
  ASSERT_EQ(c.kind, RecordKind::kRecord) << c.reason;
  EXPECT_EQ(c.size, *size);
  StoredMessage d = decode_record(rec.bytes.data());
  EXPECT_EQ(d.topic, "TopicA");
  EXPECT_EQ(d.queue_id, 3);
  EXPECT_EQ(d.body, m.body);
  EXPECT_EQ(d.flag, 42);
  EXPECT_EQ(d.sys_flag, 0x8);
  EXPECT_EQ(d.reconsume_times, 2);
  EXPECT_EQ(d.prepared_transaction_offset.value(), 999);
  EXPECT_EQ(d.queue_offset.value(), 7);
  EXPECT_EQ(d.commit_log_offset.value(), 4096);
  EXPECT_EQ(d.store_timestamp_ms, 123456789);
  EXPECT_EQ(d.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(d.born_host, m.born_host);
  EXPECT_EQ(d.store_host, (HostAddress{0x7F000001, 10911}));
  EXPECT_EQ(d.properties, m.properties);
  EXPECT_EQ(d.store_size, *size);

  RecordSummary s = summarize_record(rec.bytes.data());
  EXPECT_EQ(s.topic, "TopicA");
  EXPECT_EQ(s.tag_hash, tag_hash("TagA"));
  EXPECT_EQ(s.queue_offset, 7);
}

TEST(RecordCodecTest, PlanWrittenInPlaceEqualsEncodedAndFinalized) {
  // The store's put path (plan_record + write_record straight into the segment) must give
  // exactly the bytes of encode_record + finalize_record, for small and multi-chunk bodies.
  for (size_t body : {0, 1, 100, 1024, 5000}) {
    StoredMessage m = make_message("PlanTopic", 2, std::string(body, 'x'), "TagA");
    m.set_property("custom", "v");
    EncodedRecord expect = encode_at(m, 8192);
    std::string props;
    RecordPlan plan;
    plan_record(m, HostAddress{0x7F000001, 10911}, &props, &plan);
    ASSERT_EQ(static_cast<size_t>(plan.size), expect.bytes.size());
    std::string out(static_cast<size_t>(plan.size), '\xEE');
    write_record(out.data(), plan, 7, 8192, 123456789);
    EXPECT_EQ(out, expect.bytes) << "body " << body;
    EXPECT_EQ(check_record(out.data(), plan.size, 8192, true).kind, RecordKind::kRecord);
  }
}

TEST(RecordCodecTest, CrcCoversHeaderAndBody) {
  StoredMessage m = make_message("TopicA", 0, "hello world", "T");
  EncodedRecord good = encode_at(m, 0);
  ASSERT_EQ(check_record(good.bytes.data(), 1 << 20, 0, true).kind, RecordKind::kRecord);
  // Flip one bit in each field region: header (queue id, store timestamp), body, topic, properties.
  for (size_t at :
       {size_t(pos::kQueueId), size_t(pos::kStoreTimestamp + 3), size_t(pos::kBody + 2), good.bytes.size() - 3}) {
    EncodedRecord bad = good;
    bad.bytes[at] ^= 0x10;
    RecordCheck c = check_record(bad.bytes.data(), 1 << 20, 0, true);
    EXPECT_EQ(c.kind, RecordKind::kCorrupt) << "flipped byte " << at;
    EXPECT_NE(c.reason.find("CRC"), std::string::npos) << c.reason;
    // Without CRC verification the flip goes unnoticed (the dispatcher's fast path).
    EXPECT_EQ(check_record(bad.bytes.data(), 1 << 20, 0, false).kind, RecordKind::kRecord);
  }
  // A wrong physical offset and a broken size are caught without the CRC.
  EXPECT_EQ(check_record(good.bytes.data(), 1 << 20, 64, false).kind, RecordKind::kCorrupt);
  EncodedRecord torn = good;
  put_be32(torn.bytes.data(), static_cast<uint32_t>(good.bytes.size() + 5));
  EXPECT_EQ(check_record(torn.bytes.data(), 1 << 20, 0, true).kind, RecordKind::kCorrupt);
}

TEST(RecordCodecTest, BlankAndEndMarkers) {
  char buf[64] = {};
  EXPECT_EQ(check_record(buf, 64, 0, true).kind, RecordKind::kEnd);
  put_be32(buf, 64);
  put_be32(buf + 4, kBlankMagic);
  RecordCheck c = check_record(buf, 64, 0, true);
  EXPECT_EQ(c.kind, RecordKind::kBlank);
  EXPECT_EQ(c.size, 64);
  EXPECT_EQ(check_record(buf, 72, 0, true).kind, RecordKind::kCorrupt);  // wrong remaining length
  buf[4] = 0x11;
  EXPECT_EQ(check_record(buf, 64, 0, true).kind, RecordKind::kCorrupt);
}

TEST(RecordCodecTest, ValidationRefusesBadMessages) {
  StoredMessage ok = make_message("T", 0, "x");
  EXPECT_TRUE(validate_message(ok, 100, 1000));

  StoredMessage empty_topic = ok;
  empty_topic.topic.clear();
  EXPECT_EQ(validate_message(empty_topic, 100, 1000).status().code(), Code::kMessageIllegal);

  StoredMessage neg_queue = ok;
  neg_queue.queue_id = -1;
  EXPECT_EQ(validate_message(neg_queue, 100, 1000).status().code(), Code::kMessageIllegal);

  StoredMessage bad_prop = ok;
  bad_prop.set_property("k", std::string("a\x02"
                                         "b"));
  EXPECT_EQ(validate_message(bad_prop, 100, 1000).status().code(), Code::kMessageIllegal);

  StoredMessage big = make_message("T", 0, std::string(200, 'b'));
  auto r = validate_message(big, 100, 100000);
  EXPECT_EQ(r.status().code(), Code::kMessageIllegal);
  EXPECT_NE(r.status().message().find("maxMessageSize is 100"), std::string::npos) << r.status().message();

  auto too_big_for_segment = validate_message(big, 1000, 150);
  EXPECT_EQ(too_big_for_segment.status().code(), Code::kMessageIllegal);
  EXPECT_NE(too_big_for_segment.status().message().find("150"), std::string::npos);
}

TEST(RecordCodecTest, ViewValidationFindsTheFactsTheDispatcherIndexesBy) {
  // Repeated names: the last wins, as when the record's properties are decoded.
  const std::string props = std::string(
                                "TAGS\x01old\x02KEYS\x01"
                                "a b\x02X\x01TAGS\x02UNIQ_KEY\x01") +
                            "0A000001" + "\x02TAGS\x01new\x02";
  MessageView v;
  v.topic = "T";
  v.properties = props;
  PropertyFacts facts;
  ASSERT_TRUE(validate_view(v, 1 << 20, 1 << 22, &facts));
  EXPECT_EQ(facts.tag_hash, tag_hash("new"));
  EXPECT_EQ(facts.keys, "a b");
  EXPECT_EQ(facts.uniq_key, "0A000001");
}

TEST(RecordCodecTest, SameTextComparesEveryByteAtEveryLength) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string a(n, 'x');
    std::string b = a;
    EXPECT_TRUE(same_text(a, b)) << n;
    EXPECT_TRUE(same_text(a, a)) << n;
    EXPECT_FALSE(same_text(a, a + "x")) << n;
    for (size_t i = 0; i < n; ++i) {
      b[i] = 'y';
      EXPECT_FALSE(same_text(a, b)) << n << "/" << i;
      b[i] = 'x';
    }
  }
}

// The facts the general property walk gives (the last of repeated names wins).
PropertyFacts walked_facts(std::string_view props) {
  PropertyFacts f;
  (void)record::for_each_encoded_property(props, [&f](std::string_view name, std::string_view value) {
    if (name == prop::kTags) f.tag_hash = tag_hash(value);
    if (name == prop::kKeys) f.keys = value;
    if (name == prop::kUniqKey) f.uniq_key = value;
  });
  return f;
}

// Well-formed properties of 0 to ~90 bytes, across the 64 bytes scanned in one step: the
// same facts as the general walk, which is what the short scan replaces.
TEST(RecordCodecTest, ShortPropertiesGiveTheFactsOfTheGeneralWalk) {
  std::mt19937 rng(11);
  const std::string_view names[] = {prop::kTags, prop::kKeys, prop::kUniqKey, "X", "TAGSX", "KEY", "UNIQ_KEZ"};
  for (int round = 0; round < 20000; ++round) {
    std::string props;
    const int entries = static_cast<int>(rng() % 6);
    for (int e = 0; e < entries; ++e) {
      props.append(names[rng() % std::size(names)]).push_back(kPropertyNameEnd);
      const size_t value_len = rng() % 20;
      for (size_t i = 0; i < value_len; ++i) props.push_back(static_cast<char>('a' + rng() % 26));
      props.push_back(kPropertyEnd);
    }
    PropertyFacts scanned;
    ASSERT_EQ(scan_property_facts(props, &scanned), "") << ::testing::PrintToString(props);
    const PropertyFacts want = walked_facts(props);
    ASSERT_EQ(scanned.tag_hash, want.tag_hash) << ::testing::PrintToString(props);
    ASSERT_EQ(scanned.keys, want.keys) << ::testing::PrintToString(props);
    ASSERT_EQ(scanned.uniq_key, want.uniq_key) << ::testing::PrintToString(props);
    // Views into `props`, not copies.
    if (!want.keys.empty()) {
      EXPECT_EQ(scanned.keys.data(), want.keys.data());
    }
  }
}

// validate_view skips eight bytes at a time; whatever the shape, it must accept and refuse
// exactly what the property decoder does, naming the same entry, and find the same facts.
TEST(RecordCodecTest, ViewValidationAgreesWithThePropertyDecoder) {
  const char alphabet[] = {'a', '\0', '\x01', '\x02', '\x03', '\x7f', '\x80', '\xff'};
  std::mt19937 rng(7);
  auto entry_byte = [](const std::string& why) {
    size_t at = why.find("at byte ");
    return at == std::string::npos ? std::string("?") : why.substr(at + 8, why.find(' ', at + 8) - at - 8);
  };
  for (int round = 0; round < 20000; ++round) {
    std::string props;
    const size_t len = rng() % 71;  // across the 64 bytes judged in one step
    for (size_t i = 0; i < len; ++i) {
      // Mostly text, so that long runs without separators take the eight-byte path.
      // Now and then a name the facts come from.
      if (rng() % 8 == 0) {
        const std::string_view names[] = {prop::kTags, prop::kKeys, prop::kUniqKey};
        props.append(names[rng() % 3]);
        continue;
      }
      props.push_back(rng() % 4 == 0 ? alphabet[rng() % sizeof(alphabet)] : static_cast<char>('c' + rng() % 20));
    }
    MessageView v;
    v.topic = "T";
    v.properties = props;
    PropertyFacts facts;
    auto checked = validate_view(v, 1 << 20, 1 << 22, &facts);
    const std::string decoded = record::for_each_encoded_property(props, [](std::string_view, std::string_view) {});
    ASSERT_EQ(checked.is_ok(), decoded.empty()) << ::testing::PrintToString(props) << ": " << decoded;
    if (checked.is_ok()) {
      PropertyFacts scanned;
      EXPECT_EQ(scan_property_facts(props, &scanned), "");
      EXPECT_EQ(facts.tag_hash, scanned.tag_hash) << ::testing::PrintToString(props);
      EXPECT_EQ(facts.keys, scanned.keys) << ::testing::PrintToString(props);
      EXPECT_EQ(facts.uniq_key, scanned.uniq_key) << ::testing::PrintToString(props);
      const PropertyFacts want = walked_facts(props);
      EXPECT_EQ(facts.tag_hash, want.tag_hash) << ::testing::PrintToString(props);
      EXPECT_EQ(facts.keys, want.keys) << ::testing::PrintToString(props);
      EXPECT_EQ(facts.uniq_key, want.uniq_key) << ::testing::PrintToString(props);
    }
    if (!checked.is_ok()) {
      EXPECT_EQ(checked.status().code(), Code::kMessageIllegal);
      EXPECT_EQ(entry_byte(checked.status().message()), entry_byte(decoded)) << ::testing::PrintToString(props);
    }
  }
}

}  // namespace
}  // namespace mq::storage_mmap
