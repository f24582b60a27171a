// End-to-end: consumer retry, dead-letter queues and scheduled messages with a real mqbroker
// (embedded name server) loading the schedule plugin with short delay levels, the C++ SDK and
// the real mqadmin:
//  - a concurrent listener that keeps failing a message sees it max+1 times (reconsume times
//    0..max, always under its original topic), then exactly one copy lands in %DLQ%<group>;
//  - delay level -1 from the listener context sends a message straight to the DLQ;
//  - mqadmin queryDlqMessage lists it and resendDlqMessage delivers it again;
//  - a consume timeout sends a stuck message back while its listener still runs;
//  - an orderly listener retries in place (the queue waits) and DLQs at the max;
//  - delayed / timed sends arrive, a cancelled one never does (SDK and mqadmin);
//  - a broadcasting consumer neither retries nor sends back;
//  - without the schedule plugin a failing message is redelivered locally and never lost.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mq/client/producer.h"
#include "mq/client/push_consumer.h"
#include "mq/wire/client_channel.h"
#include "support/broker_admin.h"
#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;
using client::ConsumeStatus;
using client::MessageExt;

// 18 short levels: a retry with reconsume times n waits level 3+n (300 ms, 400 ms, ...).
constexpr const char* kFastLevels = "100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms 900ms 1s 1s 1s 1s 1s 1s 1s 1s 1s";

struct Delivery {
  std::string body;
  std::string topic;
  int32_t reconsume_times = 0;
  std::string msg_id;
};

// Everything a listener saw, in arrival order.
struct Log {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Delivery> all;

  void add(const MessageExt& m) {
    {
      std::lock_guard lock(mu);
      all.push_back(Delivery{m.body(), m.topic(), m.reconsume_times(), m.msg_id()});
    }
    cv.notify_all();
  }
  std::vector<Delivery> of(const std::string& body) {
    std::lock_guard lock(mu);
    std::vector<Delivery> out;
    for (const auto& d : all) {
      if (d.body == body) out.push_back(d);
    }
    return out;
  }
  size_t count(const std::string& body) { return of(body).size(); }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& d : all) out.push_back(d.body);
    return out;
  }
};

BrokerOptions broker_options(bool schedule) {
  BrokerOptions options;
  if (schedule) {
    options.plugins = "storage-mmap,transport-thrift,schedule";
    options.sections["schedule"]["messageDelayLevel"] = kFastLevels;
  }
  return options;
}

// Every message of queue 0 of `topic` on the broker (empty if the topic does not exist).
std::vector<wire::MessageExt> read_queue(const std::string& broker_addr, const std::string& topic) {
  auto channel = wire::ClientChannel::connect(broker_addr);
  std::vector<wire::MessageExt> out;
  int64_t offset = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    wire::PullRequest request;
    request.consumerGroup = "retry-e2e-reader";
    request.topic = topic;
    request.queueId = 0;
    request.queueOffset = offset;
    request.maxMsgs = 32;
    request.suspendTimeoutMs = 0;
    wire::PullResponse response;
    channel->broker().pull(response, request);
    if (response.code != 0 || response.messages.empty()) break;
    for (auto& m : response.messages) out.push_back(std::move(m));
    offset = response.nextBeginOffset;
  }
  return out;
}

std::string prop(const wire::MessageExt& m, const std::string& name) {
  auto it = m.properties.find(name);
  return it == m.properties.end() ? std::string() : it->second;
}

class RetryE2ETest : public ::testing::Test {
 protected:
  void start_broker(bool schedule) {
    broker_ = std::make_unique<BrokerProcess>(dir_.path(), broker_options(schedule));
    broker_->start();
  }
  void TearDown() override {
    for (auto& c : consumers_) c->shutdown();
    if (producer_) producer_->shutdown();
    if (broker_) {
      EXPECT_EQ(broker_->stop(SIGTERM), 0) << broker_->log();
    }
  }

  client::Producer& producer() {
    if (!producer_) {
      producer_ = std::make_unique<client::Producer>("retry-e2e-producer");
      producer_->set_namesrv_addr(broker_->namesrv_addr());
      EXPECT_TRUE(producer_->start().is_ok());
    }
    return *producer_;
  }

  client::SendResult send(const client::Message& m) {
    auto result = producer().send(m);
    EXPECT_EQ(result.status, client::SendStatus::kSendOk) << result.code << " " << result.remark;
    return result;
  }

  // A clustering consumer with short intervals; the caller registers the listener.
  client::PushConsumer& consumer(const std::string& group, const std::string& topic) {
    auto c = std::make_unique<client::PushConsumer>(group);
    c->set_namesrv_addr(broker_->namesrv_addr());
    c->subscribe(topic, "*");
    c->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
    c->set_rebalance_interval_ms(1000);
    c->set_persist_offset_interval_ms(200);
    c->set_pull_suspend_timeout_ms(2000);
    c->set_reconsume_delay_ms(100);
    consumers_.push_back(std::move(c));
    return *consumers_.back();
  }

  CommandResult mqadmin(const std::vector<std::string>& args) { return run_mqadmin(broker_->namesrv_addr(), args); }

  TempDir dir_{"mqretry"};
  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<client::Producer> producer_;
  std::vector<std::unique_ptr<client::PushConsumer>> consumers_;
};

TEST_F(RetryE2ETest, FailingMessageIsRetriedThenDeadLetteredAndResentByMqadmin) {
  start_broker(true);
  const std::string topic = "RetryTopic";
  const std::string group = "retry-group";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;

  constexpr int kMax = 3;
  Log log;
  std::atomic<bool> accept_poison{false};
  auto& c = consumer(group, topic);
  c.set_max_reconsume_times(kMax);
  c.register_message_listener_with_context(
      [&](const std::vector<MessageExt>& msgs, client::ConsumeConcurrentlyContext& context) {
        for (const auto& m : msgs) log.add(m);
        const std::string& body = msgs.front().body();
        if (body == "straight-to-dlq") {
          context.delay_level_when_next_consume = -1;
          return ConsumeStatus::kReconsumeLater;
        }
        if (body == "poison" && !accept_poison.load()) return ConsumeStatus::kReconsumeLater;
        return ConsumeStatus::kConsumeSuccess;
      });
  ASSERT_TRUE(c.start().is_ok());

  client::Message poison(topic, "TagP", "poison-key", "poison");
  poison.set_property("user-prop", "kept");
  auto sent = send(poison);
  send(client::Message(topic, "good"));
  send(client::Message(topic, "straight-to-dlq"));

  // max+1 deliveries with reconsume times 0..max, always under the original topic.
  ASSERT_TRUE(eventually([&] { return log.count("poison") >= kMax + 1; }, 30s)) << log.count("poison");
  const std::string dlq = "%DLQ%" + group;
  ASSERT_TRUE(eventually([&] { return read_queue(broker_->broker_addr(), dlq).size() >= 2; }, 20s));
  std::this_thread::sleep_for(1500ms);  // more than the longest retry delay used: a late copy would show
  auto deliveries = log.of("poison");
  ASSERT_EQ(deliveries.size(), static_cast<size_t>(kMax + 1));
  for (int i = 0; i <= kMax; ++i) {
    EXPECT_EQ(deliveries[i].reconsume_times, i);
    EXPECT_EQ(deliveries[i].topic, topic);
    EXPECT_EQ(deliveries[i].msg_id, sent.msg_id);
  }
  EXPECT_EQ(log.count("good"), 1u);
  auto straight = log.of("straight-to-dlq");
  ASSERT_EQ(straight.size(), 1u);  // delay level -1: no retry at all
  EXPECT_EQ(straight[0].topic, topic);

  // Exactly one copy of each in the DLQ, with the original topic; the source queue moved on.
  auto dead = read_queue(broker_->broker_addr(), dlq);
  ASSERT_EQ(dead.size(), 2u);
  std::map<std::string, wire::MessageExt> dead_by_body;
  for (auto& m : dead) dead_by_body[m.body] = m;
  ASSERT_EQ(dead_by_body.count("poison"), 1u);
  ASSERT_EQ(dead_by_body.count("straight-to-dlq"), 1u);
  const auto& dead_poison = dead_by_body["poison"];
  EXPECT_EQ(prop(dead_poison, "RETRY_TOPIC"), topic);
  EXPECT_EQ(prop(dead_poison, "TAGS"), "TagP");
  EXPECT_EQ(prop(dead_poison, "user-prop"), "kept");
  EXPECT_EQ(dead_poison.reconsumeTimes, kMax + 1);
  EXPECT_EQ(prop(dead_by_body["straight-to-dlq"], "RETRY_TOPIC"), topic);
  EXPECT_TRUE(eventually([&] { return committed_offset(broker_->broker_addr(), group, topic) == 3; }, 10s))
      << committed_offset(broker_->broker_addr(), group, topic);

  // mqadmin lists the group's DLQ and resends the poison message to its original topic.
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), dlq)) << "no route for " << dlq;
  auto listed = mqadmin({"queryDlqMessage", "-g", group, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  auto doc = nlohmann::json::parse(listed.output);
  ASSERT_EQ(doc["messages"].size(), 2u) << listed.output;
  bool listed_poison = false;
  for (const auto& row : doc["messages"]) {
    EXPECT_EQ(row["OriginTopic"], topic);
    if (row["Body"] == "poison") {
      listed_poison = true;
      EXPECT_EQ(row["MsgId"], sent.msg_id);
    }
  }
  EXPECT_TRUE(listed_poison) << listed.output;

  accept_poison.store(true);
  auto resent = mqadmin({"resendDlqMessage", "-g", group, "-i", sent.msg_id, "--json"});
  ASSERT_EQ(resent.exit_code, 0) << resent.output;
  auto resent_doc = nlohmann::json::parse(resent.output);
  ASSERT_EQ(resent_doc["results"].size(), 1u) << resent.output;
  EXPECT_EQ(resent_doc["results"][0]["Result"], "OK");
  EXPECT_EQ(resent_doc["results"][0]["OriginTopic"], topic);
  ASSERT_TRUE(eventually([&] { return log.count("poison") == kMax + 2; }, 20s)) << log.count("poison");
  auto again = log.of("poison").back();
  EXPECT_EQ(again.topic, topic);
  EXPECT_EQ(again.reconsume_times, 0);
  EXPECT_EQ(again.msg_id, sent.msg_id);
  EXPECT_EQ(log.count("straight-to-dlq"), 1u);  // -i resent only the poison message
}

TEST_F(RetryE2ETest, ConsumeTimeoutSendsAStuckMessageBack) {
  start_broker(true);
  const std::string topic = "SlowTopic";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;

  Log log;
  auto& c = consumer("slow-group", topic);
  c.set_consume_thread_count(2);
  c.set_consume_timeout_ms(300);
  c.register_message_listener([&](const std::vector<MessageExt>& msgs) {
    log.add(msgs.front());
    if (msgs.front().reconsume_times() == 0) {
      // Stuck until the consumer sent it back and the retry arrived (or 20 s).
      std::unique_lock lock(log.mu);
      log.cv.wait_for(lock, 20s, [&] { return log.all.size() >= 2; });
    }
    return ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(c.start().is_ok());
  send(client::Message(topic, "slow"));
  ASSERT_TRUE(eventually([&] { return log.count("slow") >= 2; }, 20s)) << log.count("slow");
  auto deliveries = log.of("slow");
  EXPECT_EQ(deliveries[0].reconsume_times, 0);
  EXPECT_EQ(deliveries[1].reconsume_times, 1);
  EXPECT_EQ(deliveries[1].topic, topic);
  // The stuck call's late success is ignored (the message was already sent back): no third copy.
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(log.count("slow"), 2u);
  EXPECT_TRUE(eventually([&] { return committed_offset(broker_->broker_addr(), "slow-group", topic) == 1; }, 10s));
}

TEST_F(RetryE2ETest, OrderlyConsumerRetriesInPlaceThenDeadLetters) {
  start_broker(true);
  const std::string topic = "OrderlyRetryTopic";
  const std::string group = "orderly-retry-group";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;
  for (const char* body : {"o0", "o1", "o2"}) send(client::Message(topic, body));

  constexpr int kMax = 2;
  Log log;
  auto& c = consumer(group, topic);
  c.set_max_reconsume_times(kMax);
  c.set_suspend_current_queue_time_ms(100);
  c.register_message_listener_orderly([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) log.add(m);
    return msgs.front().body() == "o1" ? client::ConsumeOrderlyStatus::kSuspendCurrentQueueAMoment
                                       : client::ConsumeOrderlyStatus::kSuccess;
  });
  ASSERT_TRUE(c.start().is_ok());
  ASSERT_TRUE(eventually([&] { return log.count("o2") >= 1; }, 30s)) << log.bodies().size();
  // In place: o1 again and again (reconsume 0..max) before o2, then o1 went to the DLQ.
  EXPECT_EQ(log.bodies(), (std::vector<std::string>{"o0", "o1", "o1", "o1", "o2"}));
  auto retried = log.of("o1");
  for (int i = 0; i < static_cast<int>(retried.size()); ++i) EXPECT_EQ(retried[i].reconsume_times, i);
  // The dead letter was stored before o2 was consumed; its queue unit follows within the
  // dispatcher's poll.
  std::vector<wire::MessageExt> dead;
  ASSERT_TRUE(eventually(
      [&] {
        dead = read_queue(broker_->broker_addr(), "%DLQ%" + group);
        return !dead.empty();
      },
      10s));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "o1");
  EXPECT_EQ(prop(dead[0], "RETRY_TOPIC"), topic);
  EXPECT_TRUE(read_queue(broker_->broker_addr(), "%RETRY%" + group).empty());
  EXPECT_TRUE(eventually([&] { return committed_offset(broker_->broker_addr(), group, topic) == 3; }, 10s));
}

TEST_F(RetryE2ETest, DelayedAndTimedMessagesArriveAndCancelledOnesDoNot) {
  start_broker(true);
  const std::string topic = "DelayTopic";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;
  Log log;
  auto& c = consumer("delay-group", topic);
  c.register_message_listener([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) log.add(m);
    return ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(c.start().is_ok());

  client::Message by_level(topic, "by-level");
  by_level.set_delay_time_level(2);
  client::Message by_delay(topic, "by-delay");
  by_delay.set_delay_ms(1500);
  client::Message cancelled(topic, "cancelled");
  cancelled.set_delay_ms(1500);
  client::Message cancelled_by_admin(topic, "cancelled-by-admin");
  cancelled_by_admin.set_deliver_time_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() +
      1500);
  send(by_level);
  send(by_delay);
  auto to_cancel = send(cancelled);
  auto to_cancel_admin = send(cancelled_by_admin);

  EXPECT_TRUE(producer().cancel_scheduled(topic, to_cancel.msg_id).is_ok());
  EXPECT_EQ(producer().cancel_scheduled(topic, to_cancel.msg_id).code(), client::code::kQueryNotFound);
  auto admin = mqadmin({"cancelScheduledMessage", "-t", topic, "-i", to_cancel_admin.msg_id});
  EXPECT_EQ(admin.exit_code, 0) << admin.output;
  auto admin_again = mqadmin({"cancelScheduledMessage", "-t", topic, "-i", to_cancel_admin.msg_id});
  EXPECT_EQ(admin_again.exit_code, 1) << admin_again.output;
  // mqadmin sendMessage with a delay level.
  auto sent = mqadmin({"sendMessage", "-t", topic, "-p", "admin-delayed", "-l", "1"});
  EXPECT_EQ(sent.exit_code, 0) << sent.output;

  ASSERT_TRUE(eventually([&] { return log.count("by-delay") == 1; }, 20s));
  ASSERT_TRUE(eventually([&] { return log.count("by-level") == 1 && log.count("admin-delayed") == 1; }, 20s));
  std::this_thread::sleep_for(1000ms);  // the cancelled ones were due with by-delay
  EXPECT_EQ(log.count("cancelled"), 0u);
  EXPECT_EQ(log.count("cancelled-by-admin"), 0u);
}

TEST_F(RetryE2ETest, BroadcastingConsumerDoesNotRetry) {
  start_broker(true);
  const std::string topic = "BroadcastRetryTopic";
  const std::string group = "broadcast-retry-group";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;
  Log log;
  auto& c = consumer(group, topic);
  c.set_message_model(client::MessageModel::kBroadcasting);
  c.set_offset_store_dir(dir_.path() + "/broadcast-offsets");
  c.register_message_listener([&](const std::vector<MessageExt>& msgs) {
    for (const auto& m : msgs) log.add(m);
    return msgs.front().body() == "fails" ? ConsumeStatus::kReconsumeLater : ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(c.start().is_ok());
  send(client::Message(topic, "fails"));
  send(client::Message(topic, "after"));
  ASSERT_TRUE(eventually([&] { return log.count("after") == 1; }, 20s));
  std::this_thread::sleep_for(1000ms);  // a local or broker-side retry would show up here
  EXPECT_EQ(log.count("fails"), 1u);
  EXPECT_TRUE(read_queue(broker_->broker_addr(), "%RETRY%" + group).empty());
  EXPECT_TRUE(read_queue(broker_->broker_addr(), "%DLQ%" + group).empty());
}

TEST_F(RetryE2ETest, WithoutSchedulePluginAFailingMessageIsRedeliveredLocally) {
  start_broker(false);
  const std::string topic = "LocalRetryTopic";
  const std::string group = "local-retry-group";
  ASSERT_EQ(create_topic(broker_->broker_addr(), topic, 1), "");
  ASSERT_TRUE(wait_for_route(broker_->namesrv_addr(), topic)) << "no route for " << topic;

  Log log;
  std::atomic<int64_t> committed_while_failing{-2};
  auto& c = consumer(group, topic);
  c.register_message_listener([&](const std::vector<MessageExt>& msgs) {
    log.add(msgs.front());
    if (msgs.front().reconsume_times() < 3) {
      if (msgs.front().reconsume_times() == 2) {
        committed_while_failing.store(committed_offset(broker_->broker_addr(), group, topic));
      }
      return ConsumeStatus::kReconsumeLater;
    }
    return ConsumeStatus::kConsumeSuccess;
  });
  ASSERT_TRUE(c.start().is_ok());
  send(client::Message(topic, "fragile"));
  ASSERT_TRUE(eventually([&] { return log.count("fragile") >= 4; }, 20s)) << log.count("fragile");
  auto deliveries = log.of("fragile");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(deliveries[i].reconsume_times, i);
    EXPECT_EQ(deliveries[i].topic, topic);
  }
  // While it failed, the committed offset never passed it; after the success it does.
  EXPECT_LE(committed_while_failing.load(), 0);
  EXPECT_TRUE(eventually([&] { return committed_offset(broker_->broker_addr(), group, topic) == 1; }, 10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(log.count("fragile"), 4u);
  EXPECT_TRUE(read_queue(broker_->broker_addr(), "%RETRY%" + group).empty());  // nothing was sent back
}

}  // namespace
}  // namespace mq::testing
