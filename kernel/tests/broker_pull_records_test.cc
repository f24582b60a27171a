// Pulls that ask for message records (PullRequest::want_records): the kernel answers with the
// store's records when the store has them (MessageStore::get_records) and with decoded
// messages when it does not; status, offsets and the slave suggestion are the same either way.
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "mq/testkit/forwarding_message_store.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

// Answers get_records from the inner get(): each found message's body followed by '|' stands
// in for its record (the kernel passes records through without reading them).
class RecordsStore final : public testkit::ForwardingMessageStore {
 public:
  using ForwardingMessageStore::ForwardingMessageStore;
  bool get_records(const GetRequest& request, GetRecordsResult* out) override {
    ++calls;
    out->get = get(request);
    for (const StoredMessage& m : out->get.messages) {
      out->records += m.body + "|";
      ++out->record_count;
      out->end_of_last = CommitLogOffset(m.commit_log_offset.value() + m.store_size);
    }
    out->get.messages.clear();
    return true;
  }
  int calls = 0;
};

class BrokerPullRecordsTest : public ::testing::Test {
 protected:
  void start(std::shared_ptr<MessageStore> store) {
    kernel::BrokerSettings settings = test_settings(dir_.path());
    settings.total_memory_bytes = 100000;  // a consumer 40,000 bytes behind goes to a slave
    settings.access_message_in_memory_max_ratio = 40;
    core_ = std::make_unique<kernel::BrokerCore>(settings, std::move(store), quiet_logger());
    ASSERT_TRUE(core_->start().is_ok());
    ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 1, 1, kPermRead | kPermWrite}).is_ok());
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(send_sync(*core_, make_send("T", {make_message(std::to_string(i) + std::string(1000, 'x'))}, 0))
                      .status.is_ok());
  }
  void TearDown() override {
    if (core_) core_->stop();
  }
  PullResponse pull(int64_t offset, int32_t max_msgs, bool want_records) {
    PullRequest request = make_pull("T", 0, offset);
    request.consumer_group = "G";
    request.max_msgs = max_msgs;
    request.want_records = want_records;
    return pull_sync(*core_, request);
  }

  TempDir dir_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

TEST_F(BrokerPullRecordsTest, RecordsComeFromTheStoreWithTheSameOffsetsAndSuggestion) {
  auto store = std::make_shared<RecordsStore>(std::make_shared<FakeMessageStore>());
  start(store);
  PullResponse r = pull(0, 2, true);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(store->calls, 1);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.record_count, 2);
  EXPECT_EQ(r.records, "0" + std::string(1000, 'x') + "|1" + std::string(1000, 'x') + "|");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(2));
  EXPECT_EQ(r.max_offset, QueueOffset(100));
  EXPECT_EQ(r.suggest_which_broker_id, 1);  // ~98 KiB unread after the last record

  PullResponse near = pull(98, 32, true);
  ASSERT_TRUE(near.status.is_ok());
  EXPECT_EQ(near.record_count, 2);
  EXPECT_EQ(near.suggest_which_broker_id, 0);

  PullResponse none = pull(100, 32, true);
  EXPECT_EQ(none.status.code(), Code::kPullNotFound);
  EXPECT_EQ(none.record_count, 0);
  EXPECT_TRUE(none.records.empty());
  EXPECT_EQ(none.next_begin_offset, QueueOffset(100));

  PullResponse decoded = pull(0, 2, false);  // not asked: get() as before
  EXPECT_EQ(store->calls, 3);
  ASSERT_EQ(decoded.messages.size(), 2u);
  EXPECT_TRUE(decoded.records.empty());
  EXPECT_EQ(decoded.next_begin_offset, QueueOffset(2));
}

TEST_F(BrokerPullRecordsTest, AStoreWithoutRecordsAnswersWithMessages) {
  start(std::make_shared<FakeMessageStore>());
  PullResponse r = pull(0, 3, true);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.record_count, 0);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(r.messages[2].body.substr(0, 1), "2");
  EXPECT_EQ(r.next_begin_offset, QueueOffset(3));
}

}  // namespace
}  // namespace mq::test
