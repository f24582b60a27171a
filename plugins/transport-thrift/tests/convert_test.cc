// Unit tests of the small conversion helpers and option parsing.
#include <gtest/gtest.h>
#include <boost/program_options/parsers.hpp>

#include "convert.h"
#include "mq/wire/client_channel.h"
#include "transport_options.h"

namespace mq::transport_thrift {
namespace {

TEST(Convert, HostAddressRoundTrip) {
  EXPECT_EQ(parse_host_address("192.168.1.20:10911", "f"), (HostAddress{0xC0A80114, 10911}));
  EXPECT_EQ(format_host_address(HostAddress{0xC0A80114, 10911}), "192.168.1.20:10911");
  EXPECT_EQ(parse_host_address("", "f"), HostAddress{});
  EXPECT_EQ(format_host_address(HostAddress{}), "");
  for (const char* bad :
       {"1.2.3:4", "1.2.3.4", "1.2.3.4:", "1.2.3.4:70000", "a.b.c.d:1", "1.2.3.4.5:1", "256.1.1.1:1"}) {
    EXPECT_THROW(parse_host_address(bad, "bornHost"), ConversionError) << bad;
  }
}

TEST(Convert, SplitAddress) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(wire::split_address("localhost:9876", &host, &port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 9876);
  for (const char* bad : {"localhost", ":1", "h:", "h:0", "h:65536", "h:12x"}) {
    EXPECT_FALSE(wire::split_address(bad, &host, &port)) << bad;
  }
}

TEST(Convert, PullResponseCarriesTheSlaveSuggestion) {
  mq::PullResponse master;
  EXPECT_EQ(to_wire(std::move(master)).suggestWhichBrokerId, 0);
  mq::PullResponse slow;
  slow.suggest_which_broker_id = 1;
  auto out = to_wire(std::move(slow));
  EXPECT_TRUE(out.__isset.suggestWhichBrokerId);
  EXPECT_EQ(out.suggestWhichBrokerId, 1);
}

TEST(Options, DefaultsAndOverrides) {
  namespace po = boost::program_options;
  po::options_description description;
  declare_options(description);
  po::variables_map vm;
  po::store(po::command_line_parser(std::vector<std::string>{}).options(description).run(), vm);
  auto defaults = parse_options(vm);
  ASSERT_TRUE(defaults.is_ok());
  EXPECT_EQ(defaults->io_threads, 2);
  EXPECT_EQ(defaults->max_frame_size, 16u << 20);
  EXPECT_EQ(defaults->max_connections, 10000u);
  EXPECT_EQ(defaults->max_inflight_per_connection, 256u);
  EXPECT_EQ(defaults->max_pending_reply_bytes, 64ull << 20);
  EXPECT_EQ(defaults->busy_poll_micros, 50u);
  EXPECT_EQ(defaults->io_thread_affinity, IoThreadAffinity::kAuto);

  po::variables_map custom;
  po::store(
      po::command_line_parser(
          std::vector<std::string>{"--transport-thrift.ioThreads=4", "--transport-thrift.maxConnections=5",
                                   "--transport-thrift.busyPollMicros=0", "--transport-thrift.ioThreadAffinity=off"})
          .options(description)
          .run(),
      custom);
  auto parsed = parse_options(custom);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->io_threads, 4);
  EXPECT_EQ(parsed->max_connections, 5u);
  EXPECT_EQ(parsed->busy_poll_micros, 0u);
  EXPECT_EQ(parsed->io_thread_affinity, IoThreadAffinity::kOff);

  po::variables_map limits;
  po::store(po::command_line_parser(std::vector<std::string>{"--transport-thrift.maxInflightPerConnection=8",
                                                             "--transport-thrift.maxPendingReplyBytes=1048576"})
                .options(description)
                .run(),
            limits);
  auto limited = parse_options(limits);
  ASSERT_TRUE(limited.is_ok()) << limited.status().to_string();
  EXPECT_EQ(limited->max_inflight_per_connection, 8u);
  EXPECT_EQ(limited->max_pending_reply_bytes, 1u << 20);
  for (const char* bad :
       {"--transport-thrift.maxInflightPerConnection=0", "--transport-thrift.maxPendingReplyBytes=100",
        "--transport-thrift.busyPollMicros=-1", "--transport-thrift.ioThreadAffinity=yes"}) {
    po::variables_map vm_bad;
    po::store(po::command_line_parser(std::vector<std::string>{bad}).options(description).run(), vm_bad);
    auto refused = parse_options(vm_bad);
    ASSERT_FALSE(refused.is_ok()) << bad;
    std::string key = std::string(bad).substr(2, std::string(bad).find('=') - 2);
    EXPECT_NE(refused.status().message().find(key), std::string::npos) << refused.status().message();
  }

  // An empty map (options never declared) keeps the defaults too.
  EXPECT_TRUE(parse_options(po::variables_map{}).is_ok());
}

TEST(Convert, PullResponseMovesEveryMessageWhole) {
  mq::PullResponse r;
  r.next_begin_offset = QueueOffset(9);
  for (int i = 0; i < 3; ++i) {
    StoredMessage m;
    m.topic = "PullTopic";
    m.body = std::string(100, static_cast<char>('a' + i));
    m.set_property("TAGS", "t" + std::to_string(i));
    m.set_property("KEYS", "k");
    m.queue_id = 2;
    m.queue_offset = QueueOffset(6 + i);
    m.commit_log_offset = CommitLogOffset(1000 * i);
    m.store_host = HostAddress{0x7F000001, 10911};
    m.reconsume_times = i;
    r.messages.push_back(std::move(m));
  }
  const mq::PullResponse copy = r;
  wire::PullResponse w = to_wire(std::move(r));
  EXPECT_EQ(w.nextBeginOffset, 9);
  ASSERT_EQ(w.messages.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const StoredMessage& m = copy.messages[i];
    const wire::MessageExt& x = w.messages[i];
    EXPECT_EQ(x.topic, m.topic);
    EXPECT_EQ(x.body, m.body);
    EXPECT_EQ(x.properties, (std::map<std::string, std::string>(m.properties.begin(), m.properties.end())));
    EXPECT_EQ(x.queueOffset, m.queue_offset.value());
    EXPECT_EQ(x.reconsumeTimes, m.reconsume_times);
    EXPECT_EQ(x.offsetMsgId, make_offset_msg_id(m.store_host, m.commit_log_offset));
    EXPECT_EQ(to_wire(m), x) << "the copying overload gives the same message";
  }
}

TEST(Convert, RegistrationAndClusterInfoCarryTheRole) {
  BrokerRegistration r;
  r.broker_name = "broker-a";
  r.role = "SYNC_MASTER";
  auto wire_r = to_wire(r);
  EXPECT_TRUE(wire_r.__isset.brokerRole);
  EXPECT_EQ(to_kernel(wire_r).role, "SYNC_MASTER");
  EXPECT_FALSE(to_wire(BrokerRegistration{}).__isset.brokerRole) << "an old name server sees no new field";
  EXPECT_EQ(to_kernel(to_wire(BrokerRegistration{})).role, "");
  BrokerData data;
  data.broker_addrs = {{0, "a:1"}, {1, "b:1"}};
  data.broker_roles = {{0, "SYNC_MASTER"}, {1, "SLAVE"}};
  auto wire_d = to_wire(data);
  EXPECT_EQ(wire_d.brokerRoles.at(1), "SLAVE");
}

}  // namespace
}  // namespace mq::transport_thrift
