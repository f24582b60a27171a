// BrokerCore export_metadata / import_metadata (ha-sync's master -> slave metadata): a
// slave's topics, groups and consumer offsets become the master's and are persisted.
#include <gtest/gtest.h>

#include "broker/broker_core.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

std::unique_ptr<kernel::BrokerCore> make_core(const std::filesystem::path& root) {
  return std::make_unique<kernel::BrokerCore>(test_settings(root), std::make_shared<FakeMessageStore>(),
                                              quiet_logger());
}

TEST(BrokerMetadataSyncTest, SlaveMirrorsTheMastersTopicsGroupsAndOffsets) {
  TempDir mdir, sdir;
  auto master = make_core(mdir.path());
  ASSERT_TRUE(master->start().is_ok());
  ASSERT_TRUE(master->create_topic(TopicConfig{"Orders", 8, 6, kPermRead | kPermWrite}).is_ok());
  SubscriptionGroupConfig group;
  group.group_name = "g1";
  group.retry_max_times = 3;
  ASSERT_TRUE(master->update_subscription_group(group).is_ok());
  ASSERT_TRUE(master->update_consumer_offset("g1", "Orders", 2, 42).is_ok());
  auto exported = master->export_metadata();
  ASSERT_TRUE(exported) << exported.status().to_string();

  {
    auto slave = make_core(sdir.path());
    ASSERT_TRUE(slave->start().is_ok());
    ASSERT_TRUE(slave->create_topic(TopicConfig{"OnlyOnSlave", 1, 1, kPermRead | kPermWrite}).is_ok());
    ASSERT_TRUE(slave->update_consumer_offset("g9", "OnlyOnSlave", 0, 5).is_ok());
    ASSERT_TRUE(slave->import_metadata(*exported).is_ok());
    EXPECT_EQ(slave->topics(), master->topics());
    EXPECT_EQ(*slave->query_consumer_offset("g1", "Orders", 2), 42);
    EXPECT_FALSE(slave->query_consumer_offset("g9", "OnlyOnSlave", 0));
    auto g = slave->find_subscription_group("g1");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->retry_max_times, 3);
    // Garbage is refused and changes nothing.
    EXPECT_EQ(slave->import_metadata("{not json").code(), Code::kInvalidParameter);
    EXPECT_EQ(slave->import_metadata(R"({"topicConfigTable":{}})").code(), Code::kInvalidParameter);
    EXPECT_EQ(slave->topics(), master->topics());
    slave->stop();
  }
  // Persisted: a restarted slave has them.
  auto slave = make_core(sdir.path());
  ASSERT_TRUE(slave->start().is_ok());
  EXPECT_EQ(slave->topics(), master->topics());
  EXPECT_EQ(*slave->query_consumer_offset("g1", "Orders", 2), 42);
  slave->stop();
  master->stop();
}

}  // namespace
}  // namespace mq::test
