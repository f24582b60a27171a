// mq/message_record.h: reading records in place (every field at its documented position) and
// refusing bytes that are not a whole record, and the encoded-property walker.
#include "mq/message_record.h"

#include <gtest/gtest.h>

#include <vector>

#include "mq/testkit/record_builder.h"

namespace mq::test {
namespace {

using testkit::make_record;
using testkit::put32;

TEST(MessageRecordTest, ReadsEveryFieldInPlace) {
  const std::string props = "KEYS\x01k1 k2\x02TAGS\x01TagA\x02";
  std::string bytes = make_record("hello", "Topic", props) + make_record("", "T", "");
  record::RecordView v;
  ASSERT_EQ(record::parse_record(bytes, &v), "");
  EXPECT_EQ(v.size, 91 + 5 + 5 + 21);
  EXPECT_EQ(v.crc, 0x11223344u);
  EXPECT_EQ(v.queue_id, 3);
  EXPECT_EQ(v.flag, 7);
  EXPECT_EQ(v.queue_offset, 42);
  EXPECT_EQ(v.commit_log_offset, 1000);
  EXPECT_EQ(v.sys_flag, 0x8);
  EXPECT_EQ(v.born_timestamp_ms, 1700000000001);
  EXPECT_EQ(v.born_ipv4, 0x0A000001u);
  EXPECT_EQ(v.born_port, 5555);
  EXPECT_EQ(v.store_timestamp_ms, 1700000000002);
  EXPECT_EQ(v.store_ipv4, 0x7F000001u);
  EXPECT_EQ(v.store_port, 10911);
  EXPECT_EQ(v.reconsume_times, 2);
  EXPECT_EQ(v.prepared_transaction_offset, 77);
  EXPECT_EQ(v.body, "hello");
  EXPECT_EQ(v.topic, "Topic");
  EXPECT_EQ(v.properties, props);
  EXPECT_EQ(v.body.data(), bytes.data() + 88);  // a view, not a copy

  std::vector<std::pair<std::string, std::string>> seen;
  EXPECT_EQ(record::for_each_encoded_property(
                v.properties, [&](std::string_view n, std::string_view val) { seen.emplace_back(n, val); }),
            "");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>("KEYS", "k1 k2")));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>("TAGS", "TagA")));

  std::string_view rest(bytes);
  rest.remove_prefix(static_cast<size_t>(v.size));
  ASSERT_EQ(record::parse_record(rest, &v), "");
  EXPECT_EQ(v.size, 92);
  EXPECT_TRUE(v.body.empty());
  EXPECT_EQ(v.topic, "T");
  EXPECT_TRUE(v.properties.empty());
}

TEST(MessageRecordTest, RefusesBytesThatAreNotAWholeRecord) {
  const std::string good = make_record("body", "Topic",
                                       std::string("A\x01"
                                                   "1\x02",
                                                   4));
  record::RecordView v;
  auto refused = [&](const std::string& bytes, std::string_view what) {
    std::string why = record::parse_record(bytes, &v);
    EXPECT_NE(why.find(what), std::string::npos) << "got: '" << why << "'";
  };
  refused(good.substr(0, 90), "at least 91");
  refused(good.substr(0, good.size() - 1), "impossible");  // cut short
  std::string magic = good;
  magic[4] ^= 1;
  refused(magic, "magic");
  std::string small = good;
  put32(&small, 0, 90);
  refused(small, "impossible");
  std::string negative = good;
  put32(&negative, 0, 0x80000000u);
  refused(negative, "impossible");
  std::string body = good;
  put32(&body, 84, 1000);
  refused(body, "body length");
  std::string topic = good;
  topic[88 + 4] = 6;
  refused(topic, "do not add up");
  std::string long_topic = good;
  long_topic[88 + 4] = static_cast<char>(255);  // would read the properties length past the end
  refused(long_topic, "topic length 255 exceeds");
  std::string props = good;
  props[88 + 4 + 1 + 5 + 1] = 5;
  refused(props, "do not add up");
}

TEST(MessageRecordTest, MalformedPropertiesAreNamed) {
  auto why = [](std::string_view encoded) {
    return record::for_each_encoded_property(encoded, [](std::string_view, std::string_view) {});
  };
  EXPECT_NE(why(std::string("A\x01"
                            "1",
                            3))
                .find("no terminating"),
            std::string::npos);
  EXPECT_NE(why(std::string("\x01"
                            "1\x02",
                            3))
                .find("empty name"),
            std::string::npos);
  EXPECT_NE(why(std::string("A1\x02", 3)).find("no \\x01"), std::string::npos);
  EXPECT_NE(why(std::string("A\x01"
                            "1\x01"
                            "2\x02",
                            6))
                .find("two"),
            std::string::npos);
  EXPECT_EQ(why(""), "");
}

// The walker visits only the separators, 16 bytes at a time. Against the plain reading entry
// by entry (find the \x02, then the \x01 inside): the same entries, the same verdict, on
// entries of every length around the 16-byte steps, bytes above 127 and zeros, and malformed
// input at every position.
std::string read_entry_by_entry(std::string_view encoded, std::vector<std::string>* seen) {
  size_t at = 0;
  while (at < encoded.size()) {
    const size_t end = encoded.find(kPropertyEnd, at);
    if (end == std::string_view::npos)
      return "property entry at byte " + std::to_string(at) + " has no terminating \\x02";
    const std::string_view entry = encoded.substr(at, end - at);
    const size_t sep = entry.find(kPropertyNameEnd);
    if (sep == std::string_view::npos || sep == 0)
      return "property entry at byte " + std::to_string(at) + " has " +
             (sep == 0 ? "an empty name" : "no \\x01 between name and value");
    if (entry.find(kPropertyNameEnd, sep + 1) != std::string_view::npos)
      return "property entry at byte " + std::to_string(at) + " has two \\x01 separators";
    seen->push_back(std::string(entry.substr(0, sep)) + "=" + std::string(entry.substr(sep + 1)));
    at = end + 1;
  }
  return {};
}

TEST(MessageRecordTest, PropertyWalkerAgreesWithReadingEntryByEntry) {
  uint32_t rng = 12345;
  auto next = [&rng](uint32_t n) {
    rng = rng * 1664525u + 1013904223u;
    return (rng >> 8) % n;
  };
  const char alphabet[] = {'a', 'Z', '7', ' ', '\0', static_cast<char>(0x80), static_cast<char>(0xff), '\x03'};
  int malformed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string encoded;
    const uint32_t entries = next(6);
    for (uint32_t e = 0; e < entries; ++e) {
      const uint32_t name = 1 + next(20), value = next(40);
      for (uint32_t i = 0; i < name; ++i) encoded.push_back(alphabet[next(sizeof alphabet)]);
      encoded.push_back(kPropertyNameEnd);
      for (uint32_t i = 0; i < value; ++i) encoded.push_back(alphabet[next(sizeof alphabet)]);
      encoded.push_back(kPropertyEnd);
    }
    if (!encoded.empty() && next(2) == 0) {  // one byte replaced, inserted or cut off
      const size_t at = next(static_cast<uint32_t>(encoded.size()));
      const char sep = next(2) == 0 ? kPropertyNameEnd : kPropertyEnd;
      switch (next(3)) {
        case 0:
          encoded[at] = next(3) == 0 ? 'x' : sep;
          break;
        case 1:
          encoded.insert(encoded.begin() + static_cast<ptrdiff_t>(at), sep);
          break;
        default:
          encoded.resize(at);
          break;
      }
    }
    std::vector<std::string> expected, seen;
    const std::string want = read_entry_by_entry(encoded, &expected);
    const std::string got = record::for_each_encoded_property(encoded, [&](std::string_view n, std::string_view v) {
      seen.push_back(std::string(n) + "=" + std::string(v));
    });
    ASSERT_EQ(got, want) << "round " << round << ", " << encoded.size() << " bytes";
    ASSERT_EQ(seen, expected) << "round " << round;
    malformed += !want.empty();
  }
  EXPECT_GT(malformed, 2000);  // the malformed cases were exercised, not only well-formed ones
}

}  // namespace
}  // namespace mq::test
