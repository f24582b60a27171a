// CoreFixture: a BrokerCore on a FakeMessageStore in a temp dir, plus heartbeat and
// group-change helpers, for the client-feature broker tests.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include "broker/broker_core.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {

inline HeartbeatRequest consumer_hb(const std::string& client, const std::string& group,
                                    std::vector<SubscriptionData> subs = {SubscriptionData{"T", "TAG", "*"}}) {
  HeartbeatRequest h;
  h.client_id = client;
  h.client_addr = "127.0.0.1:5" + std::to_string(client.size());
  h.client_version = 1;
  ConsumerData c;
  c.group = group;
  c.subscriptions = std::move(subs);
  h.consumers.push_back(std::move(c));
  return h;
}

class CoreFixture : public ::testing::Test {
 protected:
  // Starts a core; the log goes to log_text() (captured, not printed).
  void start(kernel::BrokerSettings s) {
    if (!store_) store_ = std::make_shared<FakeMessageStore>();
    log_ = std::make_shared<spdlog::logger>("core-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_stream_));
    log_->set_level(spdlog::level::info);
    core_ = std::make_unique<kernel::BrokerCore>(std::move(s), store_, log_);
    ASSERT_TRUE(core_->start().is_ok());
  }
  void start() { start(test_settings(dir_.path())); }
  void restart() {
    core_->stop();
    core_.reset();
    start();
  }
  void TearDown() override {
    if (core_) core_->stop();
  }
  std::string log_text() {
    log_->flush();
    return log_stream_.str();
  }
  std::future<ConsumerGroupChange> wait_change(const std::string& group, int64_t known, int64_t timeout_ms) {
    auto promise = std::make_shared<std::promise<ConsumerGroupChange>>();
    auto future = promise->get_future();
    core_->wait_consumer_group_change(group, "waiter", known, timeout_ms,
                                      [promise](ConsumerGroupChange c) { promise->set_value(std::move(c)); });
    return future;
  }
  // Sends `n` messages to topic/queue and waits until the store applied them.
  void send_n(const std::string& topic, QueueId q, int n, const std::string& prefix = "m") {
    for (int i = 0; i < n; ++i) {
      Message m = make_message(prefix + std::to_string(i));
      m.set_property("n", std::to_string(i));
      m.set_property(prop::kKeys, std::string("k") + std::to_string(i) + " all");
      ASSERT_TRUE(send_sync(*core_, make_send(topic, {m}, q)).status.is_ok());
    }
    store_->drain();
  }

  TempDir dir_;
  std::ostringstream log_stream_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<FakeMessageStore> store_;
  std::unique_ptr<kernel::BrokerCore> core_;
};

}  // namespace mq::test
