// End-to-end replication with real brokers: a SYNC_MASTER and its SLAVE (ha-sync) on
// loopback. Sends answer SEND_OK once replicated and the slave's commit log equals the
// master's byte for byte; a paused (SIGSTOP) slave turns sends into non-OK codes until it
// resumes; a restarted slave resumes from its own end without re-copying.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mq/wire/client_channel.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int32_t kSendOk = 0;
constexpr int32_t kSlaveNotAvailable = 11;
constexpr int32_t kFlushSlaveTimeout = 12;
constexpr int32_t kServiceNotAvailable = 14;
const char* const kTopic = "HaTopic";

std::map<std::string, std::string> ha_section(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> s = {
      {"haSendHeartbeatInterval", "200"}, {"haHousekeepingInterval", "2000"}, {"haSyncTimeoutMs", "1000"},
      {"haReconnectMaxMs", "300"},        {"haMetadataSyncInterval", "1000"}, {"haSecret", "e2e-secret"},
  };
  for (auto& [k, v] : extra) s[k] = v;
  return s;
}

int32_t send_one(const std::string& broker, const std::string& body, std::string* remark = nullptr) {
  auto channel = wire::ClientChannel::connect(broker);
  wire::Message msg;
  msg.topic = kTopic;
  msg.body = body;
  wire::SendRequest req;
  req.producerGroup = "ha-e2e-producer";
  req.topic = kTopic;
  req.queueId = 0;
  req.messages.push_back(msg);
  req.bornTimestamp = 1;
  req.bornHost = "127.0.0.1:1";
  wire::SendResponse r;
  channel->broker().send(r, req);
  if (remark) *remark = r.remark;
  return r.code;
}

std::map<std::string, std::string> runtime_info(const std::string& broker) {
  auto channel = wire::ClientChannel::connect(broker);
  wire::RuntimeInfoResponse r;
  channel->broker().getBrokerRuntimeInfo(r);
  return r.info;
}

int64_t info_int(const std::map<std::string, std::string>& info, const std::string& key) {
  auto it = info.find(key);
  return it == info.end() ? -1 : std::stoll(it->second);
}

// The commit log's bytes [0, end): segments concatenated in offset order.
std::string commit_log_prefix(const std::string& store_dir, int64_t end) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(store_dir + "/commitlog")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string out;
  for (const auto& f : files) {
    if (static_cast<int64_t>(out.size()) >= end) break;
    std::ifstream in(f, std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), {});
  }
  out.resize(static_cast<size_t>(std::min<int64_t>(end, static_cast<int64_t>(out.size()))));
  return out;
}

TEST(HaE2ETest, SyncMasterAndSlave) {
  TempDir mdir("mq-ha-master"), sdir("mq-ha-slave");
  BrokerOptions mo;
  mo.broker_name = "broker-ha";
  mo.plugins = "storage-mmap,transport-thrift,ha-sync";
  mo.sections["ha-sync"] = ha_section({{"brokerRole", "SYNC_MASTER"}, {"haListenPort", "0"}});
  mo.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(1 << 20);  // several segments
  BrokerProcess master(mdir.path(), mo);
  master.start();
  const std::string ha_port = read_file(master.store_dir() + "/ha.port");
  ASSERT_FALSE(ha_port.empty());

  BrokerOptions so;
  so.broker_name = "broker-ha";
  so.embedded_namesrv = false;
  so.namesrv_addr = master.namesrv_addr();
  so.plugins = mo.plugins;
  so.global["brokerId"] = "1";
  so.sections["ha-sync"] =
      ha_section({{"brokerRole", "SLAVE"}, {"haMasterAddress", "127.0.0.1:" + ha_port.substr(0, ha_port.find('\n'))}});
  so.sections["storage-mmap"]["mapedFileSizeCommitLog"] = std::to_string(1 << 20);
  BrokerProcess slave(sdir.path(), so);
  slave.start();

  {
    auto channel = wire::ClientChannel::connect(master.broker_addr());
    wire::TopicConfig topic;
    topic.topicName = kTopic;
    topic.readQueueNums = 2;
    topic.writeQueueNums = 2;
    wire::BaseResponse response;
    channel->broker().createTopic(response, topic);
    ASSERT_EQ(response.code, 0) << response.remark;
  }
  ASSERT_TRUE(eventually([&] { return info_int(runtime_info(master.broker_addr()), "haSlaveCount") == 1; }, 20s))
      << master.log() << slave.log();

  // Replicated sends: SEND_OK, and the slave holds every byte.
  const std::string pad(3000, 'p');
  for (int i = 0; i < 600; ++i) {  // ~1.8 MB: crosses 1 MiB segments
    std::string remark;
    ASSERT_EQ(send_one(master.broker_addr(), "m" + std::to_string(i) + pad, &remark), kSendOk) << remark;
  }
  int64_t master_end = info_int(runtime_info(master.broker_addr()), "maxCommitLogOffset");
  ASSERT_TRUE(
      eventually([&] { return info_int(runtime_info(slave.broker_addr()), "haReplicatedOffset") == master_end; }, 10s));
  EXPECT_EQ(commit_log_prefix(slave.store_dir(), master_end), commit_log_prefix(master.store_dir(), master_end));
  auto minfo = runtime_info(master.broker_addr());
  EXPECT_EQ(info_int(minfo, "haSlave.1.ackedOffset"), master_end);
  EXPECT_EQ(info_int(minfo, "haSlave.1.lag"), 0);

  // The slave refuses sends and has the topic from the master's metadata.
  std::string remark;
  EXPECT_EQ(send_one(slave.broker_addr(), "to-slave", &remark), kServiceNotAvailable);
  EXPECT_NE(remark.find("is a slave"), std::string::npos) << remark;
  EXPECT_TRUE(eventually(
      [&] {
        auto channel = wire::ClientChannel::connect(slave.broker_addr());
        wire::TopicListResponse topics;
        channel->broker().getTopicList(topics);
        return std::any_of(topics.topics.begin(), topics.topics.end(),
                           [](const wire::TopicConfig& t) { return t.topicName == kTopic; });
      },
      10s));

  // Consumer offsets committed on the master reach the slave.
  {
    auto channel = wire::ClientChannel::connect(master.broker_addr());
    wire::ConsumerOffsetRequest req;
    req.consumerGroup = "ha-e2e-group";
    req.topic = kTopic;
    req.queueId = 0;
    req.offset = 123;
    wire::BaseResponse r;
    channel->broker().updateConsumerOffset(r, req);
    ASSERT_EQ(r.code, 0) << r.remark;
  }
  EXPECT_TRUE(eventually(
      [&] {
        auto channel = wire::ClientChannel::connect(slave.broker_addr());
        wire::ConsumerOffsetRequest req;
        req.consumerGroup = "ha-e2e-group";
        req.topic = kTopic;
        req.queueId = 0;
        wire::OffsetResponse r;
        channel->broker().queryConsumerOffset(r, req);
        return r.code == 0 && r.offset == 123;
      },
      10s));

  // A paused slave: sends are stored on the master but never answered SEND_OK.
  slave.pause();
  for (int i = 0; i < 3; ++i) {
    int32_t code = send_one(master.broker_addr(), "paused-" + std::to_string(i), &remark);
    EXPECT_TRUE(code == kFlushSlaveTimeout || code == kSlaveNotAvailable) << code << " " << remark;
  }
  // After haHousekeepingInterval the master drops the silent slave: SLAVE_NOT_AVAILABLE at once.
  ASSERT_TRUE(eventually([&] { return info_int(runtime_info(master.broker_addr()), "haSlaveCount") == 0; }, 10s));
  EXPECT_EQ(send_one(master.broker_addr(), "no-slave", &remark), kSlaveNotAvailable) << remark;
  slave.signal(SIGCONT);
  ASSERT_TRUE(eventually([&] { return send_one(master.broker_addr(), "resumed") == kSendOk; }, 20s))
      << master.log() << slave.log();

  // Restart the slave: it resumes from its own end; only new bytes travel.
  master_end = info_int(runtime_info(master.broker_addr()), "maxCommitLogOffset");
  ASSERT_TRUE(
      eventually([&] { return info_int(runtime_info(slave.broker_addr()), "haReplicatedOffset") == master_end; }, 10s));
  const int64_t before_restart = master_end;
  EXPECT_EQ(slave.stop(SIGTERM), 0);
  for (int i = 0; i < 5; ++i) EXPECT_NE(send_one(master.broker_addr(), "down-" + std::to_string(i)), kSendOk);
  slave.start();
  ASSERT_TRUE(eventually([&] { return send_one(master.broker_addr(), "back") == kSendOk; }, 20s)) << slave.log();
  master_end = info_int(runtime_info(master.broker_addr()), "maxCommitLogOffset");
  ASSERT_TRUE(
      eventually([&] { return info_int(runtime_info(slave.broker_addr()), "haReplicatedOffset") == master_end; }, 10s));
  auto sinfo = runtime_info(slave.broker_addr());
  EXPECT_EQ(info_int(sinfo, "haSessionStartOffset"), before_restart);
  EXPECT_EQ(info_int(sinfo, "haBytesReceived"), master_end - before_restart);  // no re-copy
  EXPECT_EQ(info_int(sinfo, "haTruncations"), 0);
  EXPECT_EQ(commit_log_prefix(slave.store_dir(), master_end), commit_log_prefix(master.store_dir(), master_end));

  EXPECT_EQ(slave.stop(SIGTERM), 0);
  EXPECT_EQ(master.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace mq::testing
