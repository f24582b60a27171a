// End-to-end: a pull that asks for message records (PullRequest.wantRecords) from a real
// mqbroker on storage-mmap gets the records back to back, and each one carries exactly what
// the same pull without wantRecords returns as a MessageExt (older clients' answer).
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mq/message.h"
#include "mq/message_record.h"
#include "mq/wire/client_channel.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

std::string host(uint32_t ipv4, int32_t port) {
  return HostAddress{ipv4, port}.to_string();
}

TEST(PullRecordsE2ETest, RecordsCarryWhatMessagesCarry) {
  TempDir dir("mqpullrecords");
  BrokerOptions options;
  options.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(1 << 20);
  BrokerProcess broker(dir.path(), options);
  broker.start();
  auto channel = wire::ClientChannel::connect(broker.broker_addr());
  wire::TopicConfig topic;
  topic.topicName = "Rec";
  topic.readQueueNums = 1;
  topic.writeQueueNums = 1;
  wire::BaseResponse created;
  channel->broker().createTopic(created, topic);
  ASSERT_EQ(created.code, 0) << created.remark;
  constexpr int kCount = 300;  // ~3,000 bytes each: crosses 1 MiB segments
  for (int i = 0; i < kCount; i += 10) {
    wire::SendRequest send;
    send.producerGroup = "records-producer";
    send.topic = "Rec";
    send.queueId = 0;
    send.bornTimestamp = 1700000000000 + i;
    send.bornHost = "10.1.2.3:4567";
    for (int j = i; j < i + 10; ++j) {
      wire::Message m;
      m.topic = "Rec";
      m.flag = j;
      m.body = std::to_string(j);
      m.body.append(3000, static_cast<char>('a' + j % 26));
      m.properties["TAGS"] = j % 2 ? "Odd" : "Even";
      m.properties["KEYS"] = std::string("k").append(std::to_string(j));
      send.messages.push_back(m);
    }
    wire::SendResponse sent;
    channel->broker().send(sent, send);
    ASSERT_EQ(sent.code, 0) << sent.remark;
  }

  // Dispatch to the consume queue is asynchronous: wait until every message is pullable, so
  // both pulls of a round see the same queue.
  wire::QueueRef queue;
  queue.topic = "Rec";
  queue.queueId = 0;
  wire::OffsetResponse max;
  for (int i = 0; i < 500; ++i) {
    channel->broker().getMaxOffset(max, queue);
    if (max.offset == kCount) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(max.offset, kCount) << max.remark;

  int64_t offset = 0;
  int seen = 0;
  while (offset < kCount) {
    wire::PullRequest pull;
    pull.consumerGroup = "records-consumer";
    pull.topic = "Rec";
    pull.queueId = 0;
    pull.queueOffset = offset;
    pull.maxMsgs = 32;
    pull.suspendTimeoutMs = 0;
    wire::PullResponse messages;
    channel->broker().pull(messages, pull);
    ASSERT_EQ(messages.code, 0) << messages.remark;
    ASSERT_FALSE(messages.__isset.records);
    pull.__set_wantRecords(true);
    wire::PullResponse records;
    channel->broker().pull(records, pull);
    ASSERT_EQ(records.code, 0) << records.remark;
    ASSERT_TRUE(records.__isset.records);
    EXPECT_TRUE(records.messages.empty());
    EXPECT_EQ(records.nextBeginOffset, messages.nextBeginOffset);
    EXPECT_EQ(records.maxOffset, messages.maxOffset);

    std::string_view rest = records.records;
    for (const wire::MessageExt& m : messages.messages) {
      record::RecordView r;
      ASSERT_EQ(record::parse_record(rest, &r), "") << "record for queue offset " << m.queueOffset;
      EXPECT_EQ(r.queue_offset, m.queueOffset);
      EXPECT_EQ(r.queue_offset, seen);
      EXPECT_EQ(r.body, m.body);
      EXPECT_EQ(r.topic, m.topic);
      EXPECT_EQ(r.flag, m.flag);
      EXPECT_EQ(r.flag, seen);
      EXPECT_EQ(r.commit_log_offset, m.commitLogOffset);
      EXPECT_EQ(r.size, m.storeSize);
      EXPECT_EQ(static_cast<int32_t>(r.crc), m.bodyCrc);
      EXPECT_EQ(r.store_timestamp_ms, m.storeTimestamp);
      EXPECT_EQ(r.born_timestamp_ms, m.bornTimestamp);
      EXPECT_EQ(host(r.born_ipv4, r.born_port), m.bornHost);
      EXPECT_EQ(host(r.store_ipv4, r.store_port), m.storeHost);
      std::map<std::string, std::string> props;
      ASSERT_EQ(record::for_each_encoded_property(r.properties,
                                                  [&](std::string_view n, std::string_view v) { props.emplace(n, v); }),
                "");
      EXPECT_EQ(props, m.properties);
      rest.remove_prefix(static_cast<size_t>(r.size));
      ++seen;
    }
    EXPECT_TRUE(rest.empty()) << rest.size() << " bytes after the last record";
    offset = messages.nextBeginOffset;
  }
  EXPECT_EQ(seen, kCount);
}

}  // namespace
}  // namespace mq::testing
