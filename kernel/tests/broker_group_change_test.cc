// BrokerCore consumer-group tracking: versions bumped on join / leave / expiry / offset
// reset, parked wait_consumer_group_change answered on change, timeout or stop;
// inconsistent subscriptions logged once per change and shown by consumer_connection;
// client address/version, VERSION_NOT_SUPPORTED, producer connections.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "broker/group_change_service.h"
#include "support/core_fixture.h"

namespace mq::test {
namespace {

using namespace std::chrono_literals;

template <typename T>
bool ready(std::future<T>& f, std::chrono::milliseconds within = 5s) {
  return f.wait_for(within) == std::future_status::ready;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class BrokerGroupChangeTest : public CoreFixture {};

TEST(GroupChangeServiceTest, PruneForgetsIdleGroupsWithoutMembersAndKeepsVersionsMonotonic) {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> members;  // guarded by mu
  kernel::GroupChangeService service(1000, [&](const std::string& g) {
    std::lock_guard lock(mu);
    return members[g];
  });
  {
    std::lock_guard lock(mu);
    members["Live"] = {"c1"};
  }
  int64_t idle_version = service.bump("Idle");  // no member, no waiter
  service.bump("Idle");
  idle_version = service.version("Idle");
  service.bump("Live");
  std::promise<ConsumerGroupChange> parked;
  auto parked_future = parked.get_future();
  service.wait("Waited", service.version("Waited"), std::chrono::steady_clock::now() + 1h,
               [&](ConsumerGroupChange c) { parked.set_value(std::move(c)); });
  ASSERT_EQ(service.waiting(), 1u);
  ASSERT_EQ(service.group_count(), 3u);

  EXPECT_EQ(service.prune(), 1u);  // only "Idle": "Live" has a member, "Waited" a waiter
  EXPECT_EQ(service.group_count(), 2u);
  EXPECT_GT(service.version("Idle"), idle_version);  // a forgotten group never reuses a version
  EXPECT_GT(service.bump("Idle"), idle_version);

  // Once the waiter is answered, its group goes too.
  service.bump("Waited");
  ASSERT_EQ(parked_future.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(service.prune(), 2u);  // "Idle" (bumped again) and "Waited"
  EXPECT_EQ(service.group_count(), 1u);
  EXPECT_EQ(service.version("Live"), 1001);
}

TEST_F(BrokerGroupChangeTest, GroupsWithoutMembersArePrunedByTheExpiryScan) {
  auto s = test_settings(dir_.path());
  s.client_channel_expired_ms = 200;  // expiry scan every 50 ms
  start(s);
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  ASSERT_TRUE(core_->unregister_client("c1").is_ok());
  // A forgotten group is observable as a new version: a waiter that knew the old one is
  // answered at once with a newer one.
  auto before = wait_change("G", -1, 0);
  ASSERT_TRUE(ready(before));
  int64_t v = before.get().version;
  bool pruned = eventually([&] {
    auto f = wait_change("G", v, 0);
    return ready(f) && f.get().version > v;
  });
  EXPECT_TRUE(pruned) << "group G (no member, no waiter) was never pruned";
}

TEST_F(BrokerGroupChangeTest, UnknownVersionAnswersAtOnce) {
  start();
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G")).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  auto f = wait_change("G", -1, 30000);
  ASSERT_TRUE(ready(f, 2s));
  auto c = f.get();
  EXPECT_TRUE(c.status.is_ok()) << c.status.to_string();
  EXPECT_EQ(c.consumer_ids, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_TRUE(c.offset_reset_topics.empty());
}

TEST_F(BrokerGroupChangeTest, JoinLeaveAndExpiryWakeParkedWaiters) {
  auto s = test_settings(dir_.path());
  s.client_channel_expired_ms = 1000;
  start(s);
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  int64_t v = wait_change("G", -1, 0).get().version;

  auto parked = wait_change("G", v, 30000);
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());  // a renewal is no change
  EXPECT_FALSE(ready(parked, 100ms));
  EXPECT_EQ(core_->runtime_info().at("groupChangeWaitCount"), "1");
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G")).is_ok());  // join
  ASSERT_TRUE(ready(parked));
  auto joined = parked.get();
  EXPECT_GT(joined.version, v);
  EXPECT_EQ(joined.consumer_ids, (std::vector<std::string>{"c1", "c2"}));

  auto left = wait_change("G", joined.version, 30000);
  ASSERT_TRUE(core_->unregister_client("c2").is_ok());
  ASSERT_TRUE(ready(left));
  auto after_leave = left.get();
  EXPECT_GT(after_leave.version, joined.version);
  EXPECT_EQ(after_leave.consumer_ids, (std::vector<std::string>{"c1"}));

  // c1 goes silent and expires.
  auto expired = wait_change("G", after_leave.version, 30000);
  ASSERT_TRUE(ready(expired));
  auto after_expiry = expired.get();
  EXPECT_GT(after_expiry.version, after_leave.version);
  EXPECT_TRUE(after_expiry.consumer_ids.empty());
  // Another group's waiter is not woken by G's changes.
}

TEST_F(BrokerGroupChangeTest, TimeoutAnswersWithUnchangedVersion) {
  start();
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  int64_t v = wait_change("G", -1, 0).get().version;
  auto other = wait_change("Other", wait_change("Other", -1, 0).get().version, 30000);
  auto f = wait_change("G", v, 150);
  ASSERT_TRUE(ready(f));
  auto c = f.get();
  EXPECT_TRUE(c.status.is_ok());
  EXPECT_EQ(c.version, v);
  EXPECT_EQ(c.consumer_ids, (std::vector<std::string>{"c1"}));
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c9", "G")).is_ok());
  EXPECT_FALSE(ready(other, 100ms)) << "a change of G woke a waiter of another group";
  int64_t v2 = wait_change("G", -1, 0).get().version;
  auto huge = wait_change("G", v2, std::numeric_limits<int64_t>::max());  // cut to 10 min, still parked
  EXPECT_FALSE(ready(huge, 100ms));
  core_->stop();  // answers the parked waiters
  ASSERT_TRUE(ready(other));
  EXPECT_EQ(other.get().status.code(), Code::kServiceNotAvailable);
  ASSERT_TRUE(ready(huge));
  EXPECT_EQ(huge.get().status.code(), Code::kServiceNotAvailable);
  auto refused = wait_change("G", v, 30000);
  ASSERT_TRUE(ready(refused, 1s));
  EXPECT_EQ(refused.get().status.code(), Code::kServiceNotAvailable);
}

TEST_F(BrokerGroupChangeTest, OffsetResetBumpsVersionAndNamesTopic) {
  start();
  ASSERT_TRUE(core_->create_topic(TopicConfig{"T", 2, 2, 6}).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  int64_t v = wait_change("G", -1, 0).get().version;
  auto parked = wait_change("G", v, 30000);
  ASSERT_TRUE(core_->reset_offset_by_timestamp("G", "T", -1, true).is_ok());
  ASSERT_TRUE(ready(parked));
  auto c = parked.get();
  EXPECT_EQ(c.version, v + 1);
  EXPECT_EQ(c.offset_reset_topics, (std::vector<std::string>{"T"}));
  // A client that saw the reset version is not told again.
  EXPECT_TRUE(wait_change("G", c.version, 0).get().offset_reset_topics.empty());
}

TEST_F(BrokerGroupChangeTest, InconsistentSubscriptionsLoggedOnceAndShown) {
  start();
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G", {{"T", "TAG", "A"}})).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G", {{"T", "TAG", "B"}})).is_ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G", {{"T", "TAG", "B"}})).is_ok());
  std::string log = log_text();
  EXPECT_EQ(count(log, "inconsistent subscriptions"), 1u) << log;
  EXPECT_NE(log.find("consumer group 'G'"), std::string::npos) << log;
  EXPECT_NE(log.find("client 'c2' subscribes topic 'T' with TAG 'B' but client 'c1' with TAG 'A'"),
            std::string::npos) << log;

  auto conn = core_->consumer_connection("G");
  ASSERT_TRUE(conn.is_ok()) << conn.status().to_string();
  ASSERT_EQ(conn->inconsistencies.size(), 1u);
  EXPECT_EQ(conn->subscriptions.size(), 2u);  // union: both expressions of T

  // Different topic sets are a different inconsistency: logged once more.
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G", {{"T", "TAG", "A"}, {"U", "TAG", "*"}})).is_ok());
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G", {{"T", "TAG", "A"}, {"U", "TAG", "*"}})).is_ok());
  log = log_text();
  EXPECT_EQ(count(log, "inconsistent subscriptions"), 2u) << log;
  EXPECT_NE(log.find("client 'c2' subscribes topics [T, U] but client 'c1' subscribes [T]"), std::string::npos)
      << log;

  // Consistent again.
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c2", "G", {{"T", "TAG", "A"}})).is_ok());
  EXPECT_NE(log_text().find("consistent again"), std::string::npos);
  auto fixed = core_->consumer_connection("G");
  ASSERT_TRUE(fixed.is_ok());
  EXPECT_TRUE(fixed->inconsistencies.empty());
  EXPECT_EQ(fixed->subscriptions, (std::vector<SubscriptionData>{{"T", "TAG", "A"}}));
}

TEST_F(BrokerGroupChangeTest, ConsumerAndProducerConnections) {
  start();
  EXPECT_EQ(core_->consumer_connection("G").status().code(), Code::kConsumerNotOnline);
  auto hb = consumer_hb("c1", "G");
  hb.client_addr = "10.0.0.7:40001";
  hb.client_version = 3;
  hb.consumers[0].message_model = MessageModel::kBroadcasting;
  hb.consumers[0].consume_from_where = ConsumeFromWhere::kFirstOffset;
  hb.producer_groups = {"PG"};
  ASSERT_TRUE(core_->heartbeat(hb).is_ok());
  auto conn = core_->consumer_connection("G");
  ASSERT_TRUE(conn.is_ok());
  ASSERT_EQ(conn->connections.size(), 1u);
  EXPECT_EQ(conn->connections[0].client_id, "c1");
  EXPECT_EQ(conn->connections[0].client_addr, "10.0.0.7:40001");
  EXPECT_EQ(conn->connections[0].version, 3);
  EXPECT_GT(conn->connections[0].last_heartbeat_ms, 0);
  EXPECT_EQ(conn->message_model, MessageModel::kBroadcasting);
  EXPECT_EQ(conn->consume_from_where, ConsumeFromWhere::kFirstOffset);
  EXPECT_EQ(conn->subscriptions, (std::vector<SubscriptionData>{{"T", "TAG", "*"}}));

  auto producers = core_->producer_connection("PG");
  ASSERT_TRUE(producers.is_ok());
  ASSERT_EQ(producers->size(), 1u);
  EXPECT_EQ((*producers)[0].client_addr, "10.0.0.7:40001");
  EXPECT_TRUE(core_->producer_connection("NoSuch")->empty());
  EXPECT_EQ(core_->producer_connection("bad group").status().code(), Code::kInvalidParameter);

  ASSERT_TRUE(core_->unregister_client("c1").is_ok());
  EXPECT_EQ(core_->consumer_connection("G").status().code(), Code::kConsumerNotOnline);
}

TEST_F(BrokerGroupChangeTest, OldClientVersionAndBadSubscriptionRefused) {
  auto s = test_settings(dir_.path());
  s.min_client_version = 5;
  start(s);
  auto old = consumer_hb("c1", "G");
  old.client_version = 4;
  Status st = core_->heartbeat(old);
  EXPECT_EQ(st.code(), Code::kVersionNotSupported);
  EXPECT_NE(st.message().find("'c1'"), std::string::npos) << st.message();
  old.client_version = 0;  // unknown version: accepted
  EXPECT_TRUE(core_->heartbeat(old).is_ok());
  old.client_version = 5;
  EXPECT_TRUE(core_->heartbeat(old).is_ok());

  auto current = [](HeartbeatRequest h) {
    h.client_version = 5;
    return h;
  };
  Status bad_sql = core_->heartbeat(current(consumer_hb("c2", "G", {{"T", "SQL92", "a >"}})));
  EXPECT_EQ(bad_sql.code(), Code::kSubscriptionParseFailed);
  EXPECT_NE(bad_sql.message().find("topic 'T'"), std::string::npos) << bad_sql.message();
  EXPECT_EQ(core_->heartbeat(current(consumer_hb("c2", "G", {{"T", "XPATH", "a"}}))).code(),
            Code::kSubscriptionParseFailed);
  EXPECT_TRUE(core_->heartbeat(current(consumer_hb("c3", "G2", {{"T", "SQL92", "a > 1"}}))).is_ok());
  EXPECT_EQ(core_->consumer_ids("G").value(), (std::vector<std::string>{"c1"}));
}

}  // namespace
}  // namespace mq::test
