// Frame encoding and decoding (wire.h), options and role checks (ha_options.h).
#include <gtest/gtest.h>

#include <boost/program_options.hpp>

#include "ha_options.h"
#include "wire.h"

namespace mq::ha {
namespace {

std::string_view payload_of(const std::string& frame, FrameType want) {
  auto h = parse_header(frame.data(), kMaxMasterFrame);
  EXPECT_TRUE(h);
  EXPECT_EQ(h->type, want);
  EXPECT_EQ(h->payload + kHeaderBytes, frame.size());
  return std::string_view(frame).substr(kHeaderBytes);
}

TEST(WireTest, FramesRoundTrip) {
  Hello h{"cluster", "broker-a", 3, 123456789012, 7, 4096, std::string(kNonceBytes, 'n')};
  auto hb = decode_hello(payload_of(encode_hello(h), FrameType::kHello));
  ASSERT_TRUE(hb) << hb.status().to_string();
  EXPECT_EQ(hb->cluster, "cluster");
  EXPECT_EQ(hb->broker_name, "broker-a");
  EXPECT_EQ(hb->broker_id, 3);
  EXPECT_EQ(hb->max_offset, 123456789012);
  EXPECT_EQ(hb->last_epoch, 7);
  EXPECT_EQ(hb->last_epoch_start, 4096);
  EXPECT_EQ(hb->nonce, h.nonce);
  Challenge c{std::string(kNonceBytes, 'm'), std::string(32, 'p')};
  auto cb = decode_challenge(payload_of(encode_challenge(c), FrameType::kChallenge));
  ASSERT_TRUE(cb);
  EXPECT_EQ(cb->nonce, c.nonce);
  EXPECT_EQ(cb->proof, c.proof);
  auto ab = decode_auth(payload_of(encode_auth(std::string(32, 'q')), FrameType::kAuth));
  ASSERT_TRUE(ab);
  EXPECT_EQ(*ab, std::string(32, 'q'));

  Welcome w{10, 20, {{1, 0}, {2, 15}}};
  auto wb = decode_welcome(payload_of(encode_welcome(w), FrameType::kWelcome));
  ASSERT_TRUE(wb);
  EXPECT_EQ(wb->master_min, 10);
  EXPECT_EQ(wb->master_max, 20);
  EXPECT_EQ(wb->epochs, w.epochs);

  std::string frame = encode_data_header(100, 200, 3) + "abc";
  auto d = decode_data(payload_of(frame, FrameType::kData));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->from, 100);
  EXPECT_EQ(d->master_max, 200);
  EXPECT_EQ(d->bytes, "abc");

  Metadata m{987654321, "{\"a\":1}", true, "{\"offsetTable\":{}}"};
  auto mb = decode_metadata(payload_of(encode_metadata(m), FrameType::kMetadata));
  ASSERT_TRUE(mb);
  EXPECT_EQ(mb->master_end, 987654321);
  EXPECT_EQ(mb->json, m.json);
  EXPECT_TRUE(mb->has_delay_offsets);
  EXPECT_EQ(mb->delay_offsets, m.delay_offsets);

  auto ack = decode_offset(payload_of(encode_offset_frame(FrameType::kAck, 42), FrameType::kAck));
  ASSERT_TRUE(ack);
  EXPECT_EQ(*ack, 42);
  auto r = decode_refuse(payload_of(encode_refuse("no"), FrameType::kRefuse));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "no");
}

TEST(WireTest, HostileInputIsRejected) {
  const char zero[5] = {0, 0, 0, 0, 1};
  EXPECT_FALSE(parse_header(zero, 100));  // length 0
  const char huge[5] = {0x7f, 0, 0, 0, 1};
  EXPECT_FALSE(parse_header(huge, kMaxSlaveFrame));
  const char unknown[5] = {0, 0, 0, 1, 99};
  EXPECT_FALSE(parse_header(unknown, 100));
  // A hello without a full nonce (e.g. a version-1 peer's secret string) is malformed.
  EXPECT_FALSE(decode_hello(std::string_view(encode_hello(Hello{"c", "b", 1, 0, 0, 0, "short"})).substr(kHeaderBytes)));
  EXPECT_FALSE(decode_challenge(
      std::string_view(encode_challenge(Challenge{std::string(kNonceBytes, 'm'), "short"})).substr(kHeaderBytes)));
  EXPECT_FALSE(decode_auth(std::string_view(encode_auth("short")).substr(kHeaderBytes)));
  std::string hello = encode_hello(Hello{"c", "b", 1, 0, 0, 0, std::string(kNonceBytes, 'n')});
  std::string_view p = std::string_view(hello).substr(kHeaderBytes);
  for (size_t cut = 0; cut < p.size(); ++cut) EXPECT_FALSE(decode_hello(p.substr(0, cut))) << cut;
  std::string bad_magic(p);
  bad_magic[0] ^= 1;
  EXPECT_FALSE(decode_hello(bad_magic));
  EXPECT_FALSE(decode_offset(std::string(3, '\0')));
  // A welcome claiming more epochs than it carries.
  std::string w = encode_welcome(Welcome{0, 0, {{1, 0}}});
  std::string_view wp = std::string_view(w).substr(kHeaderBytes);
  EXPECT_FALSE(decode_welcome(wp.substr(0, wp.size() - 1)));
}

TEST(WireTest, SecretsCompare) {
  EXPECT_TRUE(secrets_equal("abc", "abc"));
  EXPECT_FALSE(secrets_equal("abc", "abd"));
  EXPECT_FALSE(secrets_equal("abc", "abcd"));
  EXPECT_FALSE(secrets_equal("", "a"));
  EXPECT_TRUE(secrets_equal("", ""));
}

Result<HaOptions> parse(std::vector<std::string> args) {
  namespace po = boost::program_options;
  po::options_description desc;
  declare_ha_options(desc);
  std::vector<const char*> argv{"x"};
  for (auto& a : args) argv.push_back(a.c_str());
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), desc), vm);
  po::notify(vm);
  return parse_ha_options(vm);
}

TEST(OptionsTest, RolesAndBrokerIdsMustMatch) {
  auto def = parse({});
  ASSERT_TRUE(def);
  EXPECT_EQ(def->role, Role::kAsyncMaster);
  EXPECT_EQ(def->sync_timeout_ms, 3000);
  EXPECT_EQ(def->slave_fallbehind_max, int64_t{256} << 20);
  EXPECT_FALSE(parse({"--ha-sync.brokerRole=LEADER"}));
  auto no_master = parse({"--ha-sync.brokerRole=SLAVE"});
  ASSERT_FALSE(no_master);
  EXPECT_NE(no_master.status().message().find("haMasterAddress"), std::string::npos);
  EXPECT_FALSE(parse({"--ha-sync.brokerRole=SLAVE", "--ha-sync.haMasterAddress=nohost"}));
  auto slave = parse({"--ha-sync.brokerRole=SLAVE", "--ha-sync.haMasterAddress=127.0.0.1:10912"});
  ASSERT_TRUE(slave);
  EXPECT_FALSE(check_role_matches_broker_id(*slave, 0));
  EXPECT_TRUE(check_role_matches_broker_id(*slave, 1));
  auto sync = parse({"--ha-sync.brokerRole=SYNC_MASTER"});
  ASSERT_TRUE(sync);
  EXPECT_TRUE(check_role_matches_broker_id(*sync, 0));
  auto wrong = check_role_matches_broker_id(*sync, 2);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.message().find("brokerId=2"), std::string::npos);
  EXPECT_FALSE(parse({"--ha-sync.haSyncTimeoutMs=0"}));
  EXPECT_FALSE(parse({"--ha-sync.haListenPort=70000"}));
}

}  // namespace
}  // namespace mq::ha
