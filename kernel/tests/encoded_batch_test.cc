// mq/encoded_batch.h: messages encoded back to back are read back as written, and every
// malformed batch (cut anywhere, lengths past the end, bad properties) is refused by name.
#include "mq/encoded_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mq::test {
namespace {

// Two messages written by hand (independently of append_encoded_message).
std::string two_messages() {
  std::string b;
  b += std::string("\x00\x00\x00\x07", 4);                       // flag 7
  b += std::string("\x00\x00\x00\x03", 4) + "abc";               // body
  b += std::string("\x00\x00\x00\x0a", 4) + "TAGS\x01TagA\x02";  // properties
  b += std::string("\xff\xff\xff\xfe", 4);                       // flag -2
  b += std::string("\x00\x00\x00\x01", 4) + "z";
  b += std::string("\x00\x00\x00\x00", 4);  // no properties
  return b;
}

TEST(EncodedBatchTest, ReadsEveryFieldAtItsDocumentedPosition) {
  const std::string bytes = two_messages();
  std::vector<batch::EncodedMessage> out;
  ASSERT_EQ(batch::parse_encoded_batch(bytes, &out), "");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].flag, 7);
  EXPECT_EQ(out[0].body, "abc");
  EXPECT_EQ(out[0].properties, "TAGS\x01TagA\x02");
  EXPECT_EQ(out[1].flag, -2);
  EXPECT_EQ(out[1].body, "z");
  EXPECT_EQ(out[1].properties, "");
}

TEST(EncodedBatchTest, AppendWritesWhatParseReads) {
  std::string bytes;
  batch::append_encoded_message(7, "abc", "TAGS\x01TagA\x02", &bytes);
  batch::append_encoded_message(-2, "z", "", &bytes);
  EXPECT_EQ(bytes, two_messages());
  const std::string big(70000, 'q');  // lengths above 16 bits
  batch::append_encoded_message(0, big, "", &bytes);
  std::vector<batch::EncodedMessage> out;
  ASSERT_EQ(batch::parse_encoded_batch(bytes, &out), "");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].body, big);
}

TEST(EncodedBatchTest, EveryCutThatIsNotAMessageBoundaryIsRefused) {
  const std::string bytes = two_messages();
  const size_t first_end = 12 + 3 + 10;
  for (size_t len = 1; len < bytes.size(); ++len) {
    std::vector<batch::EncodedMessage> out;
    std::string why = batch::parse_encoded_batch(std::string_view(bytes).substr(0, len), &out);
    if (len == first_end) {
      EXPECT_EQ(why, "") << len;
      EXPECT_EQ(out.size(), 1u);
    } else {
      EXPECT_NE(why, "") << "a batch cut at byte " << len << " was accepted";
      const std::string which = len < first_end ? "encoded message 0 at byte 0" : "encoded message 1 at byte 25";
      EXPECT_NE(why.find(which), std::string::npos) << why;
    }
  }
}

TEST(EncodedBatchTest, LengthsPastTheEndAndBadPropertiesAreNamed) {
  std::vector<batch::EncodedMessage> out;
  std::string huge_body =
      std::string("\x00\x00\x00\x00", 4) + std::string("\x7f\xff\xff\xff", 4) + std::string("\x00\x00\x00\x00", 4);
  std::string why = batch::parse_encoded_batch(huge_body, &out);
  EXPECT_NE(why.find("body length 2147483647 runs past the end"), std::string::npos) << why;

  std::string huge_props = std::string("\x00\x00\x00\x00", 4) + std::string("\x00\x00\x00\x01", 4) + "x" +
                           std::string("\xff\xff\xff\xff", 4);
  why = batch::parse_encoded_batch(huge_props, &out);
  EXPECT_NE(why.find("properties length 4294967295 runs past the end"), std::string::npos) << why;

  for (const std::string& props : {std::string("TAGS\x01TagA"), std::string("\x01v\x02"),
                                   std::string("a\x01"
                                               "b\x01"
                                               "c\x02")}) {
    std::string bytes;
    batch::append_encoded_message(0, "body", props, &bytes);
    out.clear();
    why = batch::parse_encoded_batch(bytes, &out);
    EXPECT_NE(why.find("encoded message 0 at byte 0: property entry at byte 0"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace mq::test
