// Master/slave replication seen through the SDK, with real processes (a standalone mqnamesrv,
// brokers loading storage-mmap, transport-thrift and ha-sync):
//  - 2m-2s-sync: producers send continuously, one SYNC_MASTER is SIGKILLed; consumers keep
//    reading its queues from the slave; every SEND_OK message is on the slave byte for byte
//    (ids and bodies consumed, commit-log bytes); the restarted master catches up, the two
//    commit logs are identical, and offsets committed while reading from the slave reach it;
//  - a SIGSTOPped slave: the sync master answers FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE (never
//    SEND_OK) until SIGCONT, then SEND_OK again.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_support.h"
#include "ha_cluster.h"
#include "mq/client/lite_pull_consumer.h"
#include "mq/client/producer.h"
#include "mq/client/pull_consumer.h"
#include "mq/client/push_consumer.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;
using client::SendStatus;

const char* const kTopic = "HaTopic";

// What a consumer group received: the first delivery of each body.
class Consumed {
 public:
  struct Entry {
    std::string msg_id;
    std::string offset_msg_id;
    int64_t commit_log_offset = 0;
    int32_t store_size = 0;
  };
  void record(const client::MessageExt& m) {
    std::lock_guard lock(mu_);
    ++deliveries_;
    entries_.try_emplace(m.body(), Entry{m.msg_id(), m.offset_msg_id(), m.commit_log_offset(), m.store_size()});
  }
  bool has(const std::string& body) const {
    std::lock_guard lock(mu_);
    return entries_.count(body) != 0;
  }
  Entry get(const std::string& body) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(body);
    return it == entries_.end() ? Entry{} : it->second;
  }
  size_t distinct() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }
  size_t deliveries() const {
    std::lock_guard lock(mu_);
    return deliveries_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  size_t deliveries_ = 0;
};

std::unique_ptr<client::PushConsumer> start_consumer(const std::string& group, const std::string& namesrv,
                                                     Consumed& out) {
  auto consumer = std::make_unique<client::PushConsumer>(group);
  consumer->set_namesrv_addr(namesrv);
  consumer->set_instance_name(group + "-member");
  consumer->subscribe(kTopic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_pull_suspend_timeout_ms(1000);
  consumer->set_route_refresh_interval_ms(1000);
  consumer->set_rebalance_interval_ms(1000);
  consumer->set_heartbeat_interval_ms(1000);
  consumer->set_persist_offset_interval_ms(300);
  consumer->register_message_listener([&out](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) out.record(m);
    return client::ConsumeStatus::kConsumeSuccess;
  });
  if (auto s = consumer->start(); !s) throw std::runtime_error("consumer " + group + ": " + s.to_string());
  return consumer;
}

// SEND_OK results by body; every other outcome counted by code.
class Sends {
 public:
  void record(const std::string& body, const client::SendResult& r) {
    std::lock_guard lock(mu_);
    if (r.status == SendStatus::kSendOk) {
      ok_[body] = r;
    } else {
      ++not_ok_[r.code];
    }
  }
  std::map<std::string, client::SendResult> ok(const std::string& broker = {}) const {
    std::lock_guard lock(mu_);
    std::map<std::string, client::SendResult> out;
    for (const auto& [body, r] : ok_)
      if (broker.empty() || r.message_queue.broker_name == broker) out.emplace(body, r);
    return out;
  }
  size_t ok_count(const std::string& broker) const { return ok(broker).size(); }
  std::map<int, int> not_ok() const {
    std::lock_guard lock(mu_);
    return not_ok_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, client::SendResult> ok_;
  std::map<int, int> not_ok_;
};

std::string first_missing(const std::map<std::string, client::SendResult>& acked, const Consumed& consumed,
                          size_t* missing) {
  std::string first;
  *missing = 0;
  for (const auto& [body, r] : acked) {
    if (consumed.has(body)) continue;
    if (first.empty()) first = body;
    ++*missing;
  }
  return first;
}

// Offset of the first byte where a and b differ, or -1.
int64_t first_difference(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return a.size() == b.size() ? -1 : static_cast<int64_t>(n);
}

// Committed offsets of `group` per queue on the broker at addr (-1: none).
std::map<int, int64_t> committed(const std::string& addr, const std::string& group) {
  std::map<int, int64_t> out;
  for (const auto& q : consume_stats(addr, group, kTopic)) out[q.queueId] = q.consumerOffset;
  return out;
}
std::map<int, int64_t> queue_ends(const std::string& addr, const std::string& group) {
  std::map<int, int64_t> out;
  for (const auto& q : consume_stats(addr, group, kTopic)) out[q.queueId] = q.brokerOffset;
  return out;
}

TEST(HaFailoverTest, SyncMasterKilledSlaveServesConsumersAndHoldsEverySendOk) {
  HaCluster cluster;
  cluster.start();
  ASSERT_EQ(cluster.create_topic(kTopic, 4), "");
  const std::string a_slave = cluster.slave(0).broker_addr();

  Consumed live;  // a group that reads all the time, before, during and after the outage
  auto live_consumer = start_consumer("ha-live", cluster.namesrv(), live);

  client::Producer producer("ha-producer");
  producer.set_namesrv_addr(cluster.namesrv());
  producer.set_retry_times_when_send_failed(2);
  producer.set_send_timeout_ms(3000);
  producer.set_send_latency_fault_enable(true);
  producer.set_route_refresh_interval_ms(1000);
  ASSERT_TRUE(producer.start().is_ok());

  Sends sends;
  std::atomic<bool> producing{true};
  std::thread producer_thread([&] {
    for (int seq = 0; producing.load(); ++seq) {
      std::string body = "ha-" + std::to_string(seq) + "-" + std::string(static_cast<size_t>(seq % 200), 'p');
      sends.record(body, producer.send(client::Message(kTopic, "TagH", "key-" + std::to_string(seq), body)));
      std::this_thread::sleep_for(1ms);
    }
  });

  ASSERT_TRUE(eventually([&] { return sends.ok_count("broker-a") >= 150 && sends.ok_count("broker-b") >= 150; }, 20s))
      << "a=" << sends.ok_count("broker-a") << " b=" << sends.ok_count("broker-b");
  EXPECT_EQ(cluster.master(0).stop(SIGKILL), 128 + SIGKILL);
  const size_t b_at_kill = sends.ok_count("broker-b");
  ASSERT_TRUE(eventually([&] { return sends.ok_count("broker-b") >= b_at_kill + 200; }, 20s))
      << "sends did not fail over to broker-b";
  producing = false;
  producer_thread.join();
  const auto acked_a = sends.ok("broker-a");
  const auto acked_all = sends.ok();

  // The live group reads broker-a's queues from the slave now.
  size_t missing = 0;
  EXPECT_TRUE(eventually([&] { return first_missing(acked_a, live, &missing).empty(); }, 20s))
      << missing << " SEND_OK messages of the killed master not consumed, e.g. "
      << first_missing(acked_a, live, &missing);

  // A group that starts during the outage finds broker-a's queues and offsets on the slave.
  Consumed fresh;
  auto fresh_consumer = start_consumer("ha-fresh", cluster.namesrv(), fresh);
  ASSERT_TRUE(eventually([&] { return first_missing(acked_all, fresh, &missing).empty(); }, 20s))
      << missing << " SEND_OK messages not consumed by a group started during the outage, e.g. "
      << first_missing(acked_all, fresh, &missing);

  // Byte for byte: what the slave served is what the master acknowledged...
  int64_t acked_end = 0;
  for (const auto& [body, r] : acked_a) {
    const auto got = fresh.get(body);
    EXPECT_EQ(got.msg_id, r.msg_id) << body;
    EXPECT_EQ(got.offset_msg_id, r.offset_msg_id) << body << ": not at the commit-log offset the master acknowledged";
    acked_end = std::max(acked_end, got.commit_log_offset + got.store_size);
  }
  // ...and the slave's commit log equals the dead master's files up to the slave's end, which
  // covers every SEND_OK record.
  const int64_t slave_end = max_commit_log_offset(a_slave);
  ASSERT_GT(slave_end, 0);
  EXPECT_LE(acked_end, slave_end) << "a SEND_OK record ends past the slave's commit log";
  EXPECT_EQ(first_difference(read_commit_log(cluster.master(0).store_dir(), 0, slave_end),
                             read_commit_log(cluster.slave(0).store_dir(), 0, slave_end)),
            -1);

  // The pull and lite pull consumers read broker-a's queues from the slave too, and a pull
  // consumer's commit lands there while the master is away.
  size_t a_messages_on_slave = 0;
  {
    client::PullConsumer puller("ha-pull");
    puller.set_namesrv_addr(cluster.namesrv());
    ASSERT_TRUE(puller.start().is_ok());
    for (int q = 0; q < 4; ++q) {
      client::MessageQueue mq{kTopic, "broker-a", q};
      for (int64_t offset = 0;;) {
        auto r = puller.pull(mq, "*", offset, 32);
        ASSERT_NE(r.status, client::PullResult::PullStatus::kError) << r.code << " " << r.remark;
        if (r.status == client::PullResult::PullStatus::kNoNewMsg) break;
        a_messages_on_slave += r.messages.size();
        if (r.next_begin_offset <= offset) break;
        offset = r.next_begin_offset;
      }
    }
    EXPECT_GE(a_messages_on_slave, acked_a.size());
    client::MessageQueue a1{kTopic, "broker-a", 1};
    ASSERT_TRUE(puller.update_consume_offset(a1, 3).is_ok());
    client::Status st;
    EXPECT_EQ(puller.fetch_consume_offset(a1, &st), 3) << st.to_string();
    puller.shutdown();

    client::LitePullConsumer lite("ha-lite");
    lite.set_namesrv_addr(cluster.namesrv());
    lite.set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
    ASSERT_TRUE(lite.start().is_ok());
    lite.assign({client::MessageQueue{kTopic, "broker-a", 0}, client::MessageQueue{kTopic, "broker-a", 2}});
    size_t polled = 0;
    std::set<std::string> lite_bodies;
    EXPECT_TRUE(eventually(
        [&] {
          for (const auto& m : lite.poll(100)) lite_bodies.insert(m.body());
          polled = lite_bodies.size();
          size_t want = 0;
          for (const auto& [body, r] : acked_a) want += r.message_queue.queue_id % 2 == 0;
          return polled >= want;
        },
        10s))
        << "lite pull consumer got " << polled << " messages of broker-a's queues 0 and 2";
    lite.shutdown();
  }

  // The fresh group committed its broker-a offsets to the slave while the master was away.
  std::map<int, int64_t> on_slave;
  EXPECT_TRUE(eventually(
      [&] {
        on_slave = committed(a_slave, "ha-fresh");
        auto ends = queue_ends(a_slave, "ha-fresh");
        return on_slave.size() == 4 && on_slave == ends;
      },
      10s))
      << "the slave does not hold the fresh group's offsets";

  // The master comes back: sync sends to it succeed again, the slave catches up, the commit
  // logs are identical, and the offsets committed to the slave reach the master.
  cluster.master(0).start();
  const std::string a_master = cluster.master(0).broker_addr();
  client::MessageQueue a0{kTopic, "broker-a", 0};
  int after_restart = 0;
  EXPECT_TRUE(eventually(
      [&] {
        std::string body = "after-restart-" + std::to_string(after_restart++);
        auto r = producer.send(client::Message(kTopic, "TagH", "", body), a0);
        sends.record(body, r);
        return r.status == SendStatus::kSendOk;
      },
      20s))
      << "the restarted SYNC_MASTER never answered SEND_OK";
  for (int i = 0; i < 20; ++i) {
    std::string body = "after-restart-ok-" + std::to_string(i);
    auto r = producer.send(client::Message(kTopic, "TagH", "", body), a0);
    EXPECT_EQ(r.status, SendStatus::kSendOk) << r.code << " " << r.remark;
    sends.record(body, r);
  }
  const auto acked_final = sends.ok();
  EXPECT_TRUE(eventually([&] { return first_missing(acked_final, live, &missing).empty(); }, 20s))
      << missing << " SEND_OK messages not consumed after the master returned, e.g. "
      << first_missing(acked_final, live, &missing);

  int64_t master_end = -1;
  ASSERT_TRUE(eventually(
      [&] {
        master_end = max_commit_log_offset(a_master);
        return master_end > 0 && max_commit_log_offset(a_slave) == master_end;
      },
      15s))
      << "the slave did not catch up with the restarted master: master " << master_end << " slave "
      << max_commit_log_offset(a_slave);
  EXPECT_EQ(first_difference(read_commit_log(cluster.master(0).store_dir(), 0, master_end),
                             read_commit_log(cluster.slave(0).store_dir(), 0, master_end)),
            -1);

  std::map<int, int64_t> on_master;
  EXPECT_TRUE(eventually(
      [&] {
        on_master = committed(a_master, "ha-fresh");
        if (on_master.size() != on_slave.size()) return false;
        for (const auto& [q, offset] : on_slave)
          if (on_master[q] < offset) return false;
        return true;
      },
      15s))
      << "offsets committed while reading from the slave did not reach the master";

  fresh_consumer->shutdown();
  live_consumer->shutdown();
  producer.shutdown();
  std::cout << "[ha-failover] acked=" << acked_all.size() << " acked_on_killed_master=" << acked_a.size()
            << " not_ok_codes=" <<
      [&] {
        std::string codes;
        for (const auto& [code, n] : sends.not_ok()) codes += std::to_string(code) + "x" + std::to_string(n) + " ";
        return codes;
      }()
            << " live_deliveries=" << live.deliveries() << " fresh_distinct=" << fresh.distinct()
            << " pulled_from_slave=" << a_messages_on_slave << " slave_end_at_kill=" << slave_end
            << " log_end_after_restart=" << master_end << std::endl;
}

TEST(HaFailoverTest, PausedSlaveMakesTheSyncMasterAnswerNotOkUntilItResumes) {
  HaClusterOptions options;
  options.groups = 1;
  options.ha["haSyncTimeoutMs"] = "1000";
  HaCluster cluster(options);
  cluster.start();
  ASSERT_EQ(cluster.create_topic(kTopic, 2), "");

  client::Producer producer("ha-pause-producer");
  producer.set_namesrv_addr(cluster.namesrv());
  producer.set_retry_times_when_send_failed(0);
  producer.set_send_timeout_ms(5000);
  ASSERT_TRUE(producer.start().is_ok());
  auto send = [&](const std::string& body) { return producer.send(client::Message(kTopic, "TagP", "", body)); };

  for (int i = 0; i < 10; ++i) {
    auto r = send("before-" + std::to_string(i));
    ASSERT_EQ(r.status, SendStatus::kSendOk) << r.code << " " << r.remark;
  }

  cluster.slave(0).pause();
  std::set<int> codes;
  for (int i = 0; i < 3; ++i) {
    auto r = send("paused-" + std::to_string(i));
    EXPECT_NE(r.status, SendStatus::kSendOk) << "SEND_OK while the only slave is paused";
    EXPECT_TRUE(r.code == client::code::kFlushSlaveTimeout || r.code == client::code::kSlaveNotAvailable)
        << "code " << r.code << " " << r.remark;
    EXPECT_TRUE(r.status == SendStatus::kFlushSlaveTimeout || r.status == SendStatus::kSlaveNotAvailable)
        << client::send_status_name(r.status);
    EXPECT_FALSE(r.remark.empty());
    codes.insert(r.code);
  }

  cluster.slave(0).signal(SIGCONT);
  int resumed_after = 0;
  EXPECT_TRUE(
      eventually([&] { return send("resume-" + std::to_string(resumed_after++)).status == SendStatus::kSendOk; }, 20s))
      << "no SEND_OK after the slave resumed";
  for (int i = 0; i < 10; ++i) {
    auto r = send("after-" + std::to_string(i));
    EXPECT_EQ(r.status, SendStatus::kSendOk) << r.code << " " << r.remark;
  }
  // Everything the master stored, including the sends answered FLUSH_SLAVE_TIMEOUT, reaches the slave.
  const std::string master = cluster.master(0).broker_addr();
  const std::string slave = cluster.slave(0).broker_addr();
  EXPECT_TRUE(eventually([&] { return max_commit_log_offset(slave) == max_commit_log_offset(master); }, 10s));
  producer.shutdown();
  std::cout << "[ha-pause] codes while paused:";
  for (int c : codes) std::cout << ' ' << c;
  std::cout << "; sends until SEND_OK after SIGCONT: " << resumed_after << std::endl;
}

// A master whose consumer is far behind (accessMessageInMemoryMaxRatio=0: any unread byte past
// the batch counts) suggests the group's slave; the SDK follows and the slave serves the pulls
// (its get count grows), then suggests the master again once the consumer caught up.
TEST(HaFailoverTest, FarBehindConsumerFollowsTheSuggestionToTheSlave) {
  HaClusterOptions options;
  options.groups = 1;
  options.master_role = "ASYNC_MASTER";
  options.global["accessMessageInMemoryMaxRatio"] = "0";
  HaCluster cluster(options);
  cluster.start();
  ASSERT_EQ(cluster.create_topic(kTopic, 2), "");
  const std::string master = cluster.master(0).broker_addr();
  const std::string slave = cluster.slave(0).broker_addr();

  client::Producer producer("ha-suggest-producer");
  producer.set_namesrv_addr(cluster.namesrv());
  ASSERT_TRUE(producer.start().is_ok());
  std::vector<client::Message> batch;
  for (int i = 0; i < 2000; ++i) {
    batch.emplace_back(kTopic, "TagS", "", "s-" + std::to_string(i));
    if (batch.size() == 100) {
      ASSERT_TRUE(producer.send_batch(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(eventually([&] { return max_commit_log_offset(slave) == max_commit_log_offset(master); }, 10s));
  auto gets = [](const std::string& addr) {
    auto info = runtime_info(addr);
    return info.count("getCount") ? std::stoll(info["getCount"]) : -1;
  };
  const int64_t slave_gets_before = gets(slave);

  Consumed consumed;
  auto consumer = std::make_unique<client::PushConsumer>("ha-slow");
  consumer->set_namesrv_addr(cluster.namesrv());
  consumer->subscribe(kTopic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_pull_batch_size(16);  // many pulls while far behind
  consumer->set_pull_suspend_timeout_ms(1000);
  consumer->register_message_listener([&consumed](const std::vector<client::MessageExt>& msgs) {
    for (const auto& m : msgs) consumed.record(m);
    return client::ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(consumer->start().is_ok());
  EXPECT_TRUE(eventually([&] { return consumed.distinct() >= 2000; }, 20s)) << consumed.distinct();
  const int64_t slave_gets = gets(slave) - slave_gets_before;
  consumer->shutdown();
  producer.shutdown();
  std::cout << "[ha-suggest] pulls served by the slave: " << slave_gets << " (2000 messages, batches of 16)"
            << std::endl;
  EXPECT_GE(slave_gets, 50) << "the consumer did not follow the master's suggestion to read from the slave";
}

}  // namespace
}  // namespace mq::testing
