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

}  // namespace
}  // namespace mq::test
