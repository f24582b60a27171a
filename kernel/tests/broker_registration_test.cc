// BrokerCore registration: registers with every name server at once, again on topic
// change, logs failures once per state change, unregisters on stop.
#include <gtest/gtest.h>

#include <algorithm>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "broker/broker_core.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"
#include "support/fake_transport.h"

namespace mq::test {
namespace {

using namespace std::chrono_literals;

size_t count_calls(const FakeTransport& t, const std::string& addr, const std::string& kind) {
  auto calls = t.calls();
  return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), [&](const FakeTransport::Call& c) {
    return c.address == addr && c.kind == kind;
  }));
}

size_t count_logs(spdlog::sinks::ringbuffer_sink_mt& sink, const std::string& needle) {
  auto lines = sink.last_formatted();
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(needle) != std::string::npos;
  }));
}

TEST(BrokerRegistrationTest, RegistersAtOnceAndOnTopicChangeAndUnregistersOnStop) {
  TempDir dir;
  auto s = test_settings(dir.path());
  s.namesrv_addrs = {"ns1:9876", "ns2:9876"};
  s.register_name_server_period_ms = 600000;  // only "at once" and "on change" can happen here
  FakeTransport transport;
  kernel::BrokerCore core(s, std::make_shared<FakeMessageStore>(), quiet_logger());
  ASSERT_TRUE(core.start().is_ok());
  core.start_registration(transport, s.namesrv_addrs);
  ASSERT_TRUE(eventually([&] {
    return count_calls(transport, "ns1:9876", "register") == 1 && count_calls(transport, "ns2:9876", "register") == 1;
  }));
  auto first = transport.calls().front().registration;
  EXPECT_EQ(first.cluster_name, "TestCluster");
  EXPECT_EQ(first.broker_name, "broker-test");
  EXPECT_EQ(first.broker_addr, "127.0.0.1:10911");

  ASSERT_TRUE(core.create_topic(TopicConfig{"NewTopic", 2, 2, 6}).is_ok());
  ASSERT_TRUE(eventually([&] {
    auto calls = transport.calls();
    return std::any_of(calls.begin(), calls.end(), [](const FakeTransport::Call& c) {
      return c.address == "ns2:9876" && c.kind == "register" && c.registration.topics.size() == 1 &&
             c.registration.topics[0].topic_name == "NewTopic";
    });
  })) << "topic change did not trigger a registration";
  EXPECT_EQ(core.registration().topics.size(), 1u);

  core.stop();
  EXPECT_EQ(count_calls(transport, "ns1:9876", "unregister"), 1u);
  EXPECT_EQ(count_calls(transport, "ns2:9876", "unregister"), 1u);
  EXPECT_EQ(transport.clients_created(), 2u) << "one client per name-server address";
}

TEST(BrokerRegistrationTest, FailuresAreLoggedOncePerStateChange) {
  TempDir dir;
  auto s = test_settings(dir.path());
  s.namesrv_addrs = {"down:9876"};
  s.register_name_server_period_ms = 20;
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto log = std::make_shared<spdlog::logger>("reg-test", sink);
  FakeTransport transport;
  transport.fail_address("down:9876", Status(Code::kSystemError, "connection refused"));
  kernel::BrokerCore core(s, std::make_shared<FakeMessageStore>(), log);
  ASSERT_TRUE(core.start().is_ok());
  core.start_registration(transport, s.namesrv_addrs);
  ASSERT_TRUE(eventually([&] { return count_calls(transport, "down:9876", "register") >= 5; }));
  EXPECT_EQ(count_logs(*sink, "cannot register"), 1u);

  transport.fail_address("down:9876", Status::ok());
  ASSERT_TRUE(eventually([&] { return count_logs(*sink, "registered broker") == 1; }));
  size_t calls = count_calls(transport, "down:9876", "register");
  ASSERT_TRUE(eventually([&] { return count_calls(transport, "down:9876", "register") >= calls + 3; }));
  EXPECT_EQ(count_logs(*sink, "registered broker"), 1u);

  transport.fail_address("down:9876", Status(Code::kSystemError, "connection refused"));
  ASSERT_TRUE(eventually([&] { return count_logs(*sink, "cannot register") == 2; }));
  core.stop();
}

TEST(BrokerRegistrationTest, NoNameServerMeansNoRegistration) {
  TempDir dir;
  FakeTransport transport;
  kernel::BrokerCore core(test_settings(dir.path()), std::make_shared<FakeMessageStore>(), quiet_logger());
  ASSERT_TRUE(core.start().is_ok());
  core.start_registration(transport, {});
  core.stop();
  EXPECT_TRUE(transport.calls().empty());
}

}  // namespace
}  // namespace mq::test
