// End-to-end: the README's five-minute tour, run with the real mqadmin against a real broker.
#include <signal.h>

#include <string>

#include <gtest/gtest.h>

#include "support/broker_admin.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

class MqadminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(dir_.path(), BrokerOptions{});
    broker_->start();
  }
  void TearDown() override { EXPECT_EQ(broker_->stop(SIGTERM), 0) << broker_->log(); }

  CommandResult mqadmin(const std::vector<std::string>& args) { return run_mqadmin(broker_->namesrv_addr(), args); }

  TempDir dir_{"mqadmin"};
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(MqadminTest, FiveMinuteTour) {
  auto created = mqadmin({"updateTopic", "-t", "TourTopic", "-r", "4", "-w", "4"});
  ASSERT_EQ(created.exit_code, 0) << created.output;

  ASSERT_TRUE(eventually([&] { return mqadmin({"topicList"}).output.find("TourTopic") != std::string::npos; }, 20s));
  auto route = mqadmin({"topicRoute", "-t", "TourTopic"});
  EXPECT_EQ(route.exit_code, 0) << route.output;
  EXPECT_NE(route.output.find("broker-a"), std::string::npos) << route.output;

  auto cluster = mqadmin({"clusterList"});
  EXPECT_EQ(cluster.exit_code, 0) << cluster.output;
  EXPECT_NE(cluster.output.find("TestCluster"), std::string::npos) << cluster.output;
  EXPECT_NE(cluster.output.find("broker-a"), std::string::npos) << cluster.output;

  auto sent = mqadmin({"sendMessage", "-t", "TourTopic", "-p", "hello-tour", "-c", "TagA", "-k", "order-1"});
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_NE(sent.output.find("SEND_OK"), std::string::npos) << sent.output;

  auto consumed = mqadmin({"consumeMessage", "-t", "TourTopic", "-g", "tour-group", "-c", "1"});
  EXPECT_EQ(consumed.exit_code, 0) << consumed.output;
  EXPECT_NE(consumed.output.find("hello-tour"), std::string::npos) << consumed.output;

  auto progress = mqadmin({"consumerProgress", "-g", "tour-group"});
  EXPECT_EQ(progress.exit_code, 0) << progress.output;
  EXPECT_NE(progress.output.find("TourTopic"), std::string::npos) << progress.output;
}

TEST_F(MqadminTest, ErrorsAreReportedWithCodeAndExitStatus) {
  auto unknown = mqadmin({"noSuchCommand"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  auto missing = mqadmin({"topicRoute", "-t", "NoSuchTopic"});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("TOPIC_NOT_EXIST"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace mq::testing
