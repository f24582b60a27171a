// Master and slave in one process over loopback, on RawLogStore logs: handshake checks,
// streaming and acks, SYNC_MASTER outcomes, a rogue peer, divergence truncation, metadata,
// resuming after a slave restart, the mutual challenge/response, handshake limits, metadata
// held until the log reaches it, the epoch start, and a prompt stop while connecting.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "ha_master.h"
#include "ha_slave.h"
#include "hmac_sha256.h"
#include "mq/testkit/fake_host.h"
#include "raw_log_store.h"

namespace mq::ha {
namespace {

using namespace std::chrono_literals;
using testing::RawLogStore;
namespace asio = boost::asio;
namespace fs = std::filesystem;

template <typename F>
bool wait_until(F&& pred, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// prefix + i (built in steps: GCC 12 warns falsely on "literal" + std::string).
std::string rec(const char* prefix, int i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One broker's worth of state: a store root, a log and a broker context.
struct Node {
  explicit Node(const std::string& name, int64_t id) {
    root = (fs::temp_directory_path() / ("ha-test-" + std::to_string(::getpid()) + "-" + name)).string();
    fs::remove_all(root);
    fs::create_directories(root + "/config");
    identity.cluster_name = "C1";
    identity.broker_name = "broker-a";
    identity.broker_id = id;
    identity.store_root = root;
  }
  ~Node() { fs::remove_all(root); }
  HaDeps deps(HaOptions o) { return HaDeps{std::move(o), identity, store, context, host.logger("ha-sync")}; }

  std::string root;
  BrokerIdentity identity;
  std::shared_ptr<RawLogStore> store = std::make_shared<RawLogStore>();
  std::shared_ptr<mq::testkit::FakeBrokerContext> context = std::make_shared<mq::testkit::FakeBrokerContext>();
  mq::testkit::FakeHostContext host;
};

HaOptions fast(Role role) {
  HaOptions o;
  o.role = role;
  o.listen_address = "127.0.0.1";
  o.heartbeat_interval_ms = 100;
  o.housekeeping_interval_ms = 2000;
  o.sync_timeout_ms = 300;
  o.transfer_batch_size = 1000;
  o.metadata_sync_interval_ms = 200;
  o.reconnect_max_ms = 200;
  return o;
}

HaOptions slave_of(const HaMaster& m) {
  HaOptions o = fast(Role::kSlave);
  o.master_address = "127.0.0.1:" + std::to_string(m.port());
  return o;
}

// after_store's outcome, waited for.
Status after_store_wait(HaMaster& m, StoredRange r) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  m.after_store(r, [p](Status st) { p->set_value(std::move(st)); });
  if (f.wait_for(5s) != std::future_status::ready) return Status::system("after_store never completed");
  return f.get();
}

// The next frame on `sock` (nullopt when the peer closed it or sent a bad header); its raw
// bytes are appended to `raw` when given.
std::optional<std::pair<FrameType, std::string>> read_frame(asio::ip::tcp::socket& sock,
                                                            std::string* raw = nullptr) {
  char h[kHeaderBytes];
  boost::system::error_code ec;
  asio::read(sock, asio::buffer(h), ec);
  if (ec) return std::nullopt;
  auto hdr = parse_header(h, kMaxMasterFrame);
  if (!hdr) return std::nullopt;
  std::string p(hdr->payload, '\0');
  asio::read(sock, asio::buffer(p), ec);
  if (ec) return std::nullopt;
  if (raw) raw->append(h, kHeaderBytes).append(p);
  return std::pair{hdr->type, std::move(p)};
}

// A hand-driven replication peer (for refusals and misbehaviour).
class FakePeer {
 public:
  explicit FakePeer(uint16_t port) : sock_(io_) {
    sock_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(const std::string& frame) { asio::write(sock_, asio::buffer(frame)); }
  // The next frame, or nullopt when the master closed the connection.
  std::optional<std::pair<FrameType, std::string>> read() { return read_frame(sock_); }
  // Sends `h` (with a fixed nonce if it has none) and, when challenged, answers with the
  // proof for `secret`; returns the frame after (WELCOME or REFUSE), or the first frame when
  // it was not a challenge. master_proved: whether the challenge carried a valid proof.
  std::optional<std::pair<FrameType, std::string>> handshake(Hello h, const std::string& secret) {
    if (h.nonce.empty()) h.nonce = std::string(kNonceBytes, 'n');
    send(encode_hello(h));
    auto f = read();
    if (!f || f->first != FrameType::kChallenge) return f;
    auto c = decode_challenge(f->second);
    if (!c) return std::nullopt;
    master_proved = c->proof == master_proof(secret, h.nonce, c->nonce);
    send(encode_auth(slave_proof(secret, h.nonce, c->nonce)));
    return read();
  }
  bool master_proved = false;
  // Skips data and metadata frames until the connection closes (true) or times out.
  bool closed_by_master() {
    for (int i = 0; i < 10000; ++i) {
      if (!read()) return true;
    }
    return false;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket sock_;
};

Hello hello_for(const Node& n) {
  return Hello{n.identity.cluster_name, n.identity.broker_name, 1, 0, 0, 0, std::string(kNonceBytes, 'n')};
}

TEST(ReplicationTest, HandshakeRefusesWrongClusterNameIdAndSecret) {
  Node m("hs-m", 0);
  HaOptions o = fast(Role::kAsyncMaster);
  o.secret = "right";
  HaMaster master(m.deps(o));
  ASSERT_TRUE(master.start());
  EXPECT_EQ(read_file(m.root + "/ha.port"), std::to_string(master.port()) + "\n");
  auto refused_with = [&](Hello h, const std::string& secret = "right") {
    FakePeer peer(master.port());
    auto f = peer.handshake(h, secret);
    if (!f || f->first != FrameType::kRefuse) return std::string("(not refused)");
    auto why = decode_refuse(f->second);
    EXPECT_FALSE(peer.read());  // closed after the refusal
    return why ? *why : std::string("?");
  };
  Hello good = hello_for(m);
  Hello h = good;
  EXPECT_NE(refused_with(h, "wrong").find("wrong haSecret"), std::string::npos);
  h = good;
  h.cluster = "other";
  EXPECT_NE(refused_with(h).find("cluster 'other'"), std::string::npos);
  h = good;
  h.broker_name = "broker-b";
  EXPECT_NE(refused_with(h).find("broker name 'broker-b'"), std::string::npos);
  h = good;
  h.broker_id = 0;
  EXPECT_NE(refused_with(h).find("not a slave id"), std::string::npos);
  // A frame that is not a hello first.
  {
    FakePeer peer(master.port());
    peer.send(encode_offset_frame(FrameType::kAck, 5));
    auto f = peer.read();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->first, FrameType::kRefuse);
  }
  // The right secret is welcomed with the master's epochs, after the master proved it too.
  {
    FakePeer peer(master.port());
    auto f = peer.handshake(good, "right");
    ASSERT_TRUE(f);
    EXPECT_TRUE(peer.master_proved);
    ASSERT_EQ(f->first, FrameType::kWelcome);
    auto w = decode_welcome(f->second);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->epochs, master.epochs());
  }
  EXPECT_EQ(master.runtime_info().at("haRefusedConnections"), "5");
  master.stop();
}

TEST(ReplicationTest, SlaveCatchesUpStreamsAndAcks) {
  Node m("st-m", 0), s("st-s", 1);
  for (int i = 0; i < 200; ++i) m.store->append(rec("old-", i) + std::string(50, 'x'));
  HaMaster master(m.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master.start());
  HaSlave slave(s.deps(slave_of(master)));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return s.store->end() == m.store->end(); }));
  for (int i = 0; i < 100; ++i) {
    StoredRange r = m.store->append(rec("new-", i));
    EXPECT_TRUE(after_store_wait(master, r));  // ASYNC_MASTER: OK at once
  }
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == m.store->end(); }));
  EXPECT_EQ(s.store->bytes(), m.store->bytes());
  EXPECT_EQ(master.slave_count(), 1u);
  auto info = master.runtime_info();
  EXPECT_EQ(info.at("haSlave.1.ackedOffset"), std::to_string(m.store->end()));
  EXPECT_EQ(info.at("haSlave.1.lag"), "0");
  auto sinfo = slave.runtime_info();
  EXPECT_EQ(sinfo.at("haConnected"), "true");
  EXPECT_EQ(sinfo.at("haLag"), "0");
  EXPECT_EQ(slave.session_start_offset(), 0);
  // The slave refuses sends.
  SlaveRefusesSends hook("broker-a");
  StoredMessage msg;
  Status refused = hook.before_store(msg);
  EXPECT_EQ(refused.code(), Code::kServiceNotAvailable);
  EXPECT_NE(refused.message().find("is a slave"), std::string::npos);
  slave.stop();
  ASSERT_TRUE(wait_until([&] { return master.slave_count() == 0 && master.best_acked() == -1; }));
  master.stop();
}

TEST(ReplicationTest, SyncMasterOkSlaveNotAvailableAndTimeout) {
  Node m("sync-m", 0), s("sync-s", 1);
  HaMaster master(m.deps(fast(Role::kSyncMaster)));
  ASSERT_TRUE(master.start());
  // No slave: SLAVE_NOT_AVAILABLE at once.
  EXPECT_EQ(after_store_wait(master, m.store->append("a")).code(), Code::kSlaveNotAvailable);
  HaSlave slave(s.deps(slave_of(master)));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == m.store->end(); }));
  for (int i = 0; i < 50; ++i) {
    StoredRange r = m.store->append(rec("sync-", i));
    Status st = after_store_wait(master, r);
    ASSERT_TRUE(st) << st.to_string();
    EXPECT_GE(master.best_acked(), r.end.value());  // never OK before the slave has it
  }
  EXPECT_EQ(master.waiting(), 0u);
  slave.stop();
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == -1; }));
  EXPECT_EQ(after_store_wait(master, m.store->append("b")).code(), Code::kSlaveNotAvailable);

  // A peer that handshakes and starts but never acks: FLUSH_SLAVE_TIMEOUT after haSyncTimeoutMs.
  FakePeer peer(master.port());
  auto w = peer.handshake(hello_for(s), "");
  ASSERT_TRUE(w && w->first == FrameType::kWelcome);
  peer.send(encode_offset_frame(FrameType::kStart, m.store->end()));
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == m.store->end(); }));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(after_store_wait(master, m.store->append("c")).code(), Code::kFlushSlaveTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 290ms);
  master.stop();
}

TEST(ReplicationTest, SlaveTooFarBehindIsNotAvailable) {
  Node m("fb-m", 0), s("fb-s", 1);
  HaOptions o = fast(Role::kSyncMaster);
  o.slave_fallbehind_max = 100;
  HaMaster master(m.deps(o));
  ASSERT_TRUE(master.start());
  FakePeer peer(master.port());
  ASSERT_TRUE(peer.handshake(hello_for(s), ""));
  peer.send(encode_offset_frame(FrameType::kStart, 0));
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == 0; }));
  Status st = after_store_wait(master, m.store->append(std::string(200, 'z')));
  EXPECT_EQ(st.code(), Code::kSlaveNotAvailable);
  EXPECT_NE(st.message().find("haSlaveFallbehindMax"), std::string::npos);
  master.stop();
}

TEST(ReplicationTest, PeerAckingBeyondWhatWasSentIsDisconnectedAndIgnored) {
  Node m("rogue-m", 0), s("rogue-s", 1);
  m.store->append("first");
  HaMaster master(m.deps(fast(Role::kSyncMaster)));
  ASSERT_TRUE(master.start());
  // Claiming a log beyond the master's end at start is refused.
  {
    FakePeer peer(master.port());
    ASSERT_TRUE(peer.handshake(hello_for(s), ""));
    peer.send(encode_offset_frame(FrameType::kStart, m.store->end() + 1000));
    auto f = peer.read();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->first, FrameType::kRefuse);
    EXPECT_NE(decode_refuse(f->second)->find("beyond the master's end"), std::string::npos);
  }
  FakePeer peer(master.port());
  ASSERT_TRUE(peer.handshake(hello_for(s), ""));
  peer.send(encode_offset_frame(FrameType::kStart, 0));
  ASSERT_TRUE(wait_until([&] { return master.best_acked() == 0; }));
  StoredRange r = m.store->append("wait-for-me");
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  master.after_store(r, [p](Status st) { p->set_value(st); });
  // Acks the new end before the master sent it (it may have sent only "first").
  peer.send(encode_offset_frame(FrameType::kAck, r.end.value() + 1));
  EXPECT_TRUE(peer.closed_by_master());
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kFlushSlaveTimeout);  // the fake ack never counted
  EXPECT_EQ(master.runtime_info().at("haBadAckDisconnects"), "1");
  EXPECT_EQ(master.best_acked(), -1);
  master.stop();
}

TEST(ReplicationTest, DivergedSlaveTruncatesToTheLastCommonPoint) {
  Node m("div-m", 0), s("div-s", 1);
  // Common history A under epoch 1 on both.
  for (int i = 0; i < 20; ++i) {
    m.store->append(rec("A", i));
    s.store->append(rec("A", i));
  }
  const int64_t common = m.store->end();
  ASSERT_TRUE(save_epochs(m.root + "/ha.epoch", {{1, 0}}));
  ASSERT_TRUE(save_epochs(s.root + "/ha.epoch", {{1, 0}}));
  // The slave got more of epoch 1 than the restarted master kept.
  for (int i = 0; i < 10; ++i) s.store->append(rec("lost-", i));
  HaMaster master(m.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master.start());
  EXPECT_EQ(master.epochs(), (EpochList{{1, 0}, {2, common}}));
  for (int i = 0; i < 5; ++i) m.store->append(rec("B", i));
  HaSlave slave(s.deps(slave_of(master)));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return s.store->end() == m.store->end() && slave.connected(); }));
  EXPECT_EQ(s.store->bytes(), m.store->bytes());
  EXPECT_EQ(slave.truncations(), 1u);
  EXPECT_EQ(slave.session_start_offset(), common);
  // The slave keeps the master's epochs for the next handshake.
  auto saved = load_epochs(s.root + "/ha.epoch");
  ASSERT_TRUE(saved);
  EXPECT_EQ(*saved, master.epochs());
  slave.stop();
  master.stop();
}

TEST(ReplicationTest, MetadataAndDelayOffsetsReachTheSlave) {
  Node m("meta-m", 0), s("meta-s", 1);
  const std::string json =
      R"({"topicConfigTable":{"T":{"topicName":"T"}},"subscriptionGroupTable":{},"offsetTable":{}})";
  m.context->set_exported_metadata(json);
  { std::ofstream(m.root + "/config/delayOffset.json") << R"({"offsetTable":{"1":5}})"; }
  HaMaster master(m.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master.start());
  HaSlave slave(s.deps(slave_of(master)));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return s.context->import_count() > 0; }));
  EXPECT_EQ(s.context->imported_metadata(), json);
  ASSERT_TRUE(
      wait_until([&] { return read_file(s.root + "/config/delayOffset.json") == R"({"offsetTable":{"1":5}})"; }));
  // A change reaches the slave without waiting for a reconnect.
  const std::string json2 = R"({"topicConfigTable":{},"subscriptionGroupTable":{},"offsetTable":{"T@g":{"0":7}}})";
  m.context->set_exported_metadata(json2);
  ASSERT_TRUE(wait_until([&] { return s.context->imported_metadata() == json2; }));
  slave.stop();
  master.stop();
}

TEST(ReplicationTest, RestartedSlaveResumesFromItsOwnEnd) {
  Node m("res-m", 0), s("res-s", 1);
  for (int i = 0; i < 100; ++i) m.store->append(rec("r", i));
  HaMaster master(m.deps(fast(Role::kSyncMaster)));
  ASSERT_TRUE(master.start());
  int64_t first_end = 0;
  {
    HaSlave slave(s.deps(slave_of(master)));
    ASSERT_TRUE(slave.start());
    ASSERT_TRUE(wait_until([&] { return s.store->end() == m.store->end(); }));
    first_end = s.store->end();
    EXPECT_EQ(slave.bytes_received(), static_cast<uint64_t>(first_end));
    slave.stop();
  }
  for (int i = 0; i < 10; ++i) m.store->append(rec("later", i));
  HaSlave again(s.deps(slave_of(master)));
  ASSERT_TRUE(again.start());
  ASSERT_TRUE(wait_until([&] { return s.store->end() == m.store->end(); }));
  EXPECT_EQ(again.session_start_offset(), first_end);
  EXPECT_EQ(again.bytes_received(), static_cast<uint64_t>(m.store->end() - first_end));  // no re-copy
  EXPECT_EQ(again.truncations(), 0u);
  EXPECT_EQ(s.store->bytes(), m.store->bytes());
  StoredRange r = m.store->append("after-restart");
  EXPECT_TRUE(after_store_wait(master, r));
  again.stop();
  master.stop();
}

TEST(ReplicationTest, ManualFailoverTruncatesTheOldMastersUnreplicatedTail) {
  Node a("fo-a", 0), b("fo-b", 1);
  for (int i = 0; i < 30; ++i) a.store->append(rec("a", i));
  {
    HaMaster master(a.deps(fast(Role::kAsyncMaster)));
    ASSERT_TRUE(master.start());
    HaSlave slave(b.deps(slave_of(master)));
    ASSERT_TRUE(slave.start());
    ASSERT_TRUE(wait_until([&] { return b.store->end() == a.store->end(); }));
    slave.stop();
    // The old master accepts more that never reaches the slave, then dies.
    for (int i = 0; i < 7; ++i) a.store->append(rec("unreplicated", i));
    master.stop();
  }
  const int64_t promoted_at = b.store->end();
  // b is promoted (brokerId 0, a master role); a comes back as its slave.
  b.identity.broker_id = 0;
  a.identity.broker_id = 1;
  HaMaster promoted(b.deps(fast(Role::kSyncMaster)));
  ASSERT_TRUE(promoted.start());
  EXPECT_EQ(promoted.epochs().back(), (EpochEntry{2, promoted_at}));
  StoredRange r = b.store->append("first of the new term");
  HaSlave old_master(a.deps(slave_of(promoted)));
  ASSERT_TRUE(old_master.start());
  ASSERT_TRUE(wait_until([&] { return promoted.best_acked() >= 0; }));
  EXPECT_TRUE(after_store_wait(promoted, r));
  ASSERT_TRUE(wait_until([&] { return a.store->end() == b.store->end(); }));
  EXPECT_EQ(a.store->bytes(), b.store->bytes());
  EXPECT_EQ(old_master.truncations(), 1u);
  EXPECT_EQ(old_master.session_start_offset(), promoted_at);
  old_master.stop();
  promoted.stop();
}

TEST(ReplicationTest, SlaveReconnectsAfterTheMasterRestarts) {
  Node m("rc-m", 0), s("rc-s", 1);
  m.store->append("x");
  auto master = std::make_unique<HaMaster>(m.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master->start());
  const uint16_t port = master->port();
  HaOptions so = slave_of(*master);
  HaSlave slave(s.deps(so));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return slave.connected(); }));
  master->stop();
  ASSERT_TRUE(wait_until([&] { return !slave.connected(); }));
  HaOptions o = fast(Role::kAsyncMaster);
  o.listen_port = port;  // same port: the slave's haMasterAddress stays valid
  master = std::make_unique<HaMaster>(m.deps(o));
  ASSERT_TRUE(master->start());
  EXPECT_EQ(master->epoch(), 2);
  m.store->append("y");
  ASSERT_TRUE(wait_until([&] { return slave.connected() && s.store->end() == m.store->end(); }));
  EXPECT_EQ(slave.sessions(), 2u);
  slave.stop();
  master->stop();
}

// A hand-driven master: accepts one slave and speaks frames by hand (an impostor, or a
// master whose frame order the test controls). Records every byte the slave sent.
class FakeMaster {
 public:
  FakeMaster() : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), sock_(io_) {
    acceptor_.non_blocking(true);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  bool accept() {
    boost::system::error_code ec;
    bool ok = wait_until([&] {
      acceptor_.accept(sock_, ec);
      return !ec;
    });
    if (!ok) return false;
    sock_.non_blocking(false);
    timeval tv{5, 0};
    ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return true;
  }
  void send(const std::string& frame) { asio::write(sock_, asio::buffer(frame)); }
  std::optional<std::pair<FrameType, std::string>> read() { return read_frame(sock_, &received); }
  std::string received;

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket sock_;
};

TEST(ReplicationTest, NewEpochStartsAtTheRecoveredEndNotAfterEarlierPluginPuts) {
  // Review finding 4: plugins started before ha-sync (schedule, transaction) may put before
  // HaMaster::start; those bytes belong to the new epoch.
  Node m("recov-m", 0);
  m.store->append("before-the-crash");
  ASSERT_TRUE(save_epochs(m.root + "/ha.epoch", EpochList{{1, 0}}));
  const int64_t recovered = m.store->end();
  m.store->set_recovered(recovered);
  m.store->append("put-by-the-scheduler-before-ha-sync-started");
  HaMaster master(m.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master.start());
  EXPECT_EQ(master.epochs().back(), (EpochEntry{2, recovered}));
  master.stop();
  // A store that does not report it (-1): the end seen at start.
  Node m2("recov-m2", 0);
  m2.store->append("x");
  HaMaster master2(m2.deps(fast(Role::kAsyncMaster)));
  ASSERT_TRUE(master2.start());
  EXPECT_EQ(master2.epochs().back().start, m2.store->end());
  master2.stop();
}

TEST(ReplicationTest, SlaveNeverSendsTheSecretAndRefusesAMasterThatCannotProveIt) {
  Node s("impostor-s", 1);
  s.store->append("kept-1");
  s.store->append("kept-2");
  const std::string before = s.store->bytes();
  FakeMaster impostor;
  HaOptions o = fast(Role::kSlave);
  o.secret = "the-real-secret";
  o.master_address = "127.0.0.1:" + std::to_string(impostor.port());
  HaSlave slave(s.deps(o));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(impostor.accept());
  auto hello = impostor.read();
  ASSERT_TRUE(hello && hello->first == FrameType::kHello);
  auto h = decode_hello(hello->second);
  ASSERT_TRUE(h);
  // It does not know the secret: a made-up proof, then a welcome that would truncate to 0.
  impostor.send(encode_challenge(Challenge{std::string(kNonceBytes, 'm'), std::string(32, 'p')}));
  impostor.send(encode_welcome(Welcome{0, 0, {{7, 0}}}));
  EXPECT_FALSE(impostor.read());  // the slave hung up without an AUTH
  ASSERT_TRUE(wait_until([&] { return slave.last_error().find("failed to prove") != std::string::npos; }));
  EXPECT_EQ(s.store->truncations(), 0u);
  EXPECT_EQ(s.store->bytes(), before);
  EXPECT_EQ(impostor.received.find(o.secret), std::string::npos);
  EXPECT_FALSE(slave.connected());
  slave.stop();
}

TEST(ReplicationTest, MetadataAheadOfTheSlavesLogWaitsUntilTheLogReachesIt) {
  // Review finding 5: offsets and delay progress exported at master end E must not be applied
  // by a slave whose log ends below E (a promoted slave would skip messages it has).
  Node s("metawait-s", 1);
  RawLogStore source;
  for (int i = 0; i < 5; ++i) source.append(rec("msg-", i));
  const int64_t end = source.end();
  FakeMaster master;
  HaOptions o = fast(Role::kSlave);
  o.secret = "k";
  o.master_address = "127.0.0.1:" + std::to_string(master.port());
  HaSlave slave(s.deps(o));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(master.accept());
  auto hello = master.read();
  ASSERT_TRUE(hello && hello->first == FrameType::kHello);
  auto h = decode_hello(hello->second);
  ASSERT_TRUE(h);
  const std::string nonce(kNonceBytes, 'm');
  master.send(encode_challenge(Challenge{nonce, master_proof("k", h->nonce, nonce)}));
  auto auth = master.read();
  ASSERT_TRUE(auth && auth->first == FrameType::kAuth);
  EXPECT_EQ(*decode_auth(auth->second), slave_proof("k", h->nonce, nonce));
  master.send(encode_welcome(Welcome{0, end, {{1, 0}}}));
  auto start = master.read();
  ASSERT_TRUE(start && start->first == FrameType::kStart);
  EXPECT_EQ(*decode_offset(start->second), 0);
  const std::string json = R"({"offsetTable":{"T@g":{"0":5}}})";
  master.send(encode_metadata(Metadata{end, json, true, R"({"offsetTable":{"1":5}})"}));
  ASSERT_TRUE(wait_until([&] { return slave.metadata_deferred() == 1; }));
  EXPECT_EQ(s.context->import_count(), 0u);
  EXPECT_FALSE(fs::exists(s.root + "/config/delayOffset.json"));
  // The log reaches E: now it applies.
  const std::string bytes = source.bytes();
  master.send(encode_data_header(0, end, bytes.size()) + bytes);
  ASSERT_TRUE(wait_until([&] { return s.context->import_count() == 1; }));
  EXPECT_EQ(s.context->imported_metadata(), json);
  EXPECT_TRUE(
      wait_until([&] { return read_file(s.root + "/config/delayOffset.json") == R"({"offsetTable":{"1":5}})"; }));
  slave.stop();
}

TEST(ReplicationTest, IdleUnauthenticatedConnectionsDoNotLockOutTheSlave) {
  // Review finding 8: 40 sockets that never handshake must neither use up the slave limit
  // nor stay beyond haHandshakeTimeoutMs.
  Node m("idle-m", 0), s("idle-s", 1);
  m.store->append("one");
  HaOptions o = fast(Role::kAsyncMaster);
  o.housekeeping_interval_ms = 60000;
  o.handshake_timeout_ms = 300;
  HaMaster master(m.deps(o));
  ASSERT_TRUE(master.start());
  std::vector<std::unique_ptr<FakePeer>> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(std::make_unique<FakePeer>(master.port()));
  HaSlave slave(s.deps(slave_of(master)));
  ASSERT_TRUE(slave.start());
  ASSERT_TRUE(wait_until([&] { return slave.connected() && master.best_acked() == m.store->end(); }));
  EXPECT_FALSE(idle.front()->read());  // dropped (at accept or at the handshake deadline)
  EXPECT_FALSE(idle.back()->read());
  EXPECT_GE(std::stoull(master.runtime_info().at("haRefusedConnections")), 40u);
  slave.stop();
  master.stop();
}

TEST(ReplicationTest, StopReturnsPromptlyWhileConnectingToAnUnreachableMaster) {
  // Review finding 7: a listener whose accept queue is full drops SYNs, so the slave's
  // connect hangs in SYN retries (minutes); stop() must not wait for it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);
  std::vector<int> fillers;  // fill the accept queue (never accepted)
  for (int i = 0; i < 4; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(c);
  }
  Node s("blackhole-s", 1);
  HaOptions o = fast(Role::kSlave);
  o.housekeeping_interval_ms = 60000;  // no connect timeout during the test
  o.master_address = "127.0.0.1:" + std::to_string(port);
  auto slave = std::make_unique<HaSlave>(s.deps(o));
  ASSERT_TRUE(slave->start());
  std::this_thread::sleep_for(300ms);  // let the connect get under way (not a synchronization)
  auto t0 = std::chrono::steady_clock::now();
  slave->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(slave->connected());
  slave.reset();
  for (int c : fillers) ::close(c);
  ::close(fd);
}

}  // namespace
}  // namespace mq::ha
