// End-to-end: a send with encodedMessages (SendRequest field 10) to a real mqbroker on
// storage-mmap stores each message as the same send with `messages` would, and the batch
// reply (SendResponse.batch) names each message's queue offset, offset message id and the
// client id the broker assigned. A malformed batch is refused and stores nothing.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mq/encoded_batch.h"
#include "mq/message.h"
#include "mq/wire/client_channel.h"
#include "support/broker_admin.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

constexpr int kCount = 40;

wire::Message message(int j) {
  wire::Message m;
  m.topic = "Enc";
  m.flag = j;
  m.body = "body-" + std::to_string(j) + std::string(static_cast<size_t>(j * 50), 'x');
  m.properties["TAGS"] = j % 2 ? "Odd" : "Even";
  m.properties["KEYS"] = "k" + std::to_string(j);
  if (j % 3 == 0) m.properties["UNIQ_KEY"] = "CLIENT-" + std::to_string(j);
  return m;
}

wire::SendRequest request(int queue) {
  wire::SendRequest send;
  send.producerGroup = "enc-producer";
  send.topic = "Enc";
  send.queueId = queue;
  send.bornTimestamp = 1700000000000;
  send.bornHost = "10.1.2.3:4567";
  return send;
}

std::vector<wire::MessageExt> pull_all(wire::ClientChannel& channel, int queue) {
  wire::QueueRef ref;
  ref.topic = "Enc";
  ref.queueId = queue;
  wire::OffsetResponse max;
  for (int i = 0; i < 500; ++i) {  // dispatch to the consume queue is asynchronous
    channel.broker().getMaxOffset(max, ref);
    if (max.offset == kCount) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(max.offset, kCount) << max.remark;
  std::vector<wire::MessageExt> out;
  while (static_cast<int>(out.size()) < kCount) {
    wire::PullRequest pull;
    pull.consumerGroup = "enc-consumer";
    pull.topic = "Enc";
    pull.queueId = queue;
    pull.queueOffset = static_cast<int64_t>(out.size());
    pull.suspendTimeoutMs = 0;
    wire::PullResponse got;
    channel.broker().pull(got, pull);
    if (got.code != 0 || got.messages.empty()) {
      ADD_FAILURE() << "pull at " << out.size() << ": code " << got.code << " " << got.remark;
      break;
    }
    for (auto& m : got.messages) out.push_back(std::move(m));
  }
  return out;
}

TEST(SendEncodedE2ETest, EncodedBatchIsStoredAsMessagesAreAndAnsweredPerMessage) {
  TempDir dir("mqsendencoded");
  BrokerProcess broker(dir.path(), BrokerOptions{});
  broker.start();
  ASSERT_EQ(create_topic(broker.broker_addr(), "Enc", 2), "");
  auto channel = wire::ClientChannel::connect(broker.broker_addr());

  wire::SendRequest plain = request(0);
  wire::SendRequest encoded = request(1);
  for (int j = 0; j < kCount; ++j) {
    wire::Message m = message(j);
    std::string props;
    for (const auto& [k, v] : m.properties) append_encoded_property(k, v, &props);
    batch::append_encoded_message(m.flag, m.body, props, &encoded.encodedMessages);
    plain.messages.push_back(std::move(m));
  }
  encoded.__isset.encodedMessages = true;

  // A malformed batch (cut short) first: refused, and nothing of it is stored.
  wire::SendRequest cut = encoded;
  cut.encodedMessages.pop_back();
  wire::SendResponse refused;
  channel->broker().send(refused, cut);
  EXPECT_EQ(refused.code, 13) << refused.remark;  // MESSAGE_ILLEGAL
  EXPECT_NE(refused.remark.find("encoded message 39"), std::string::npos) << refused.remark;

  wire::SendResponse plain_sent, encoded_sent;
  channel->broker().send(plain_sent, plain);
  ASSERT_EQ(plain_sent.code, 0) << plain_sent.remark;
  channel->broker().send(encoded_sent, encoded);
  ASSERT_EQ(encoded_sent.code, 0) << encoded_sent.remark;
  EXPECT_TRUE(encoded_sent.results.empty());
  ASSERT_TRUE(encoded_sent.__isset.batch);
  const wire::SendBatchResult& b = encoded_sent.batch;
  EXPECT_EQ(b.firstQueueOffset, 0);
  ASSERT_EQ(b.commitLogOffsets.size(), static_cast<size_t>(kCount));

  const std::vector<wire::MessageExt> want = pull_all(*channel, 0);
  const std::vector<wire::MessageExt> got = pull_all(*channel, 1);
  ASSERT_EQ(want.size(), static_cast<size_t>(kCount));
  ASSERT_EQ(got.size(), static_cast<size_t>(kCount));
  for (int j = 0; j < kCount; ++j) {
    const wire::MessageExt& g = got[j];
    const wire::MessageExt& w = want[j];
    EXPECT_EQ(g.body, w.body) << j;
    EXPECT_EQ(g.flag, w.flag) << j;
    EXPECT_EQ(g.queueOffset, j);
    EXPECT_EQ(g.bornTimestamp, w.bornTimestamp);
    EXPECT_EQ(g.bornHost, w.bornHost);
    EXPECT_EQ(g.storeHost, w.storeHost);
    auto without_id = [](std::map<std::string, std::string> p) {
      p.erase("UNIQ_KEY");
      return p;
    };
    EXPECT_EQ(without_id(g.properties), without_id(w.properties)) << j;
    EXPECT_EQ(g.properties.count("PGROUP"), 0u);  // the broker adds it to PREPARED messages only
    // The reply's commit-log offset and store host make the message's offset message id.
    EXPECT_EQ(g.commitLogOffset, b.commitLogOffsets[j]) << j;
    EXPECT_EQ(g.storeHost, b.storeHost);
    HostAddress host;
    CommitLogOffset offset;
    ASSERT_TRUE(decode_offset_msg_id(g.offsetMsgId, &host, &offset)) << g.offsetMsgId;
    EXPECT_EQ(offset.value(), b.commitLogOffsets[j]);
    EXPECT_EQ(host.to_string(), b.storeHost);
    // Client ids: kept when sent, else assigned by the broker and named in the reply.
    if (j % 3 == 0) {
      EXPECT_EQ(g.properties.at("UNIQ_KEY"), "CLIENT-" + std::to_string(j));
      EXPECT_EQ(b.assignedMsgIds.count(j), 0u);
    } else {
      ASSERT_EQ(b.assignedMsgIds.count(j), 1u) << j;
      EXPECT_EQ(g.properties.at("UNIQ_KEY"), b.assignedMsgIds.at(j));
    }
  }
  EXPECT_EQ(b.assignedMsgIds.size(), static_cast<size_t>(kCount - (kCount + 2) / 3));
}

}  // namespace
}  // namespace mq::testing
