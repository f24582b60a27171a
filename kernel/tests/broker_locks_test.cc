// BrokerCore queue locks (RebalanceLockManager): grant free / expired / own queues, renew,
// unlock only own locks, release on unregister and on client expiry.
#include <gtest/gtest.h>

#include <thread>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include "config/broker_options.h"
#include "support/core_fixture.h"

namespace mq::test {
namespace {

using namespace std::chrono_literals;

std::vector<QueueRef> qs(std::initializer_list<QueueId> ids) {
  std::vector<QueueRef> out;
  for (QueueId q : ids) out.push_back(QueueRef{"T", q});
  return out;
}

class BrokerLocksTest : public CoreFixture {
 protected:
  std::vector<QueueRef> lock(const std::string& client, std::vector<QueueRef> queues, const std::string& group = "G") {
    auto r = core_->lock_batch(group, client, queues);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : std::vector<QueueRef>{};
  }
};

TEST_F(BrokerLocksTest, GrantsFreeAndOwnQueuesOnly) {
  start();
  EXPECT_EQ(lock("c1", qs({0, 1})), qs({0, 1}));
  EXPECT_EQ(lock("c2", qs({1, 2})), qs({2}));          // 1 is held by c1
  EXPECT_EQ(lock("c1", qs({0, 1, 2, 3})), qs({0, 1, 3}));  // renews own, 2 is c2's
  EXPECT_EQ(lock("c2", qs({0, 1}), "OtherGroup"), qs({0, 1}));  // locks are per group
  EXPECT_EQ(core_->runtime_info().at("queueLockCount"), "6");
}

TEST_F(BrokerLocksTest, UnlockReleasesOnlyTheCallersLocks) {
  start();
  ASSERT_EQ(lock("c1", qs({0, 1})), qs({0, 1}));
  ASSERT_TRUE(core_->unlock_batch("G", "c2", qs({0, 1})).is_ok());  // not c2's: no effect
  EXPECT_TRUE(lock("c2", qs({0, 1})).empty());
  ASSERT_TRUE(core_->unlock_batch("G", "c1", qs({1})).is_ok());
  EXPECT_EQ(lock("c2", qs({0, 1})), qs({1}));
}

TEST_F(BrokerLocksTest, ExpiredLockIsTakenOver) {
  auto s = test_settings(dir_.path());
  s.rebalance_lock_max_live_time_ms = 1000;
  start(s);
  ASSERT_EQ(lock("c1", qs({0})), qs({0}));
  EXPECT_TRUE(lock("c2", qs({0})).empty());
  std::this_thread::sleep_for(1100ms);  // c1 did not renew
  EXPECT_EQ(lock("c2", qs({0})), qs({0}));
  EXPECT_TRUE(lock("c1", qs({0})).empty());
}

TEST_F(BrokerLocksTest, UnregisterAndExpiryReleaseLocks) {
  auto s = test_settings(dir_.path());
  s.client_channel_expired_ms = 200;
  start(s);
  ASSERT_TRUE(core_->heartbeat(consumer_hb("c1", "G")).is_ok());
  ASSERT_EQ(lock("c1", qs({0})), qs({0}));
  ASSERT_TRUE(core_->unregister_client("c1").is_ok());
  EXPECT_EQ(lock("c2", qs({0})), qs({0}));

  ASSERT_TRUE(core_->heartbeat(consumer_hb("c3", "G")).is_ok());
  ASSERT_EQ(lock("c3", qs({1})), qs({1}));
  // c3 stops sending heartbeats: its expiry releases queue 1 although the lock is young.
  EXPECT_TRUE(eventually([&] { return lock("c4", qs({1})) == qs({1}); }, 5s));
}

TEST_F(BrokerLocksTest, RejectsBadRequests) {
  start();
  EXPECT_EQ(core_->lock_batch("bad group", "c1", qs({0})).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->lock_batch("G", "", qs({0})).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->lock_batch("G", "c1", qs({-1})).status().code(), Code::kInvalidParameter);
  EXPECT_EQ(core_->unlock_batch("G", "", qs({0})).code(), Code::kInvalidParameter);
  core_->stop();
  EXPECT_EQ(core_->lock_batch("G", "c1", qs({0})).status().code(), Code::kServiceNotAvailable);
}

Result<kernel::BrokerConfig> config_of(std::vector<std::string> args) {
  namespace po = boost::program_options;
  args.insert(args.begin(), "--plugins=storage-mmap");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(kernel::broker_global_options("/tmp")).run(), vm);
  po::notify(vm);
  return kernel::broker_config_from(vm);
}

TEST(BrokerLocksConfigTest, RebalanceLockMaxLiveTimeKey) {
  auto defaults = config_of({});
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().to_string();
  EXPECT_EQ(defaults->settings.rebalance_lock_max_live_time_ms, 60000);
  auto set = config_of({"--rebalanceLockMaxLiveTime=1500"});
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->settings.rebalance_lock_max_live_time_ms, 1500);
  auto zero = config_of({"--rebalanceLockMaxLiveTime=0"});
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.status().message().find("rebalanceLockMaxLiveTime"), std::string::npos) << zero.status().message();
}

}  // namespace
}  // namespace mq::test
