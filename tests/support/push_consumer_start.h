// Starting an SDK PushConsumer the way end-to-end tests want it: subscribed to every tag of one
// topic from the first offset, with short rebalance and offset-persist intervals so tests stay
// fast. Header-only so only tests that link mq::client pay for it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "mq/client/push_consumer.h"

namespace mq::testing {

// Creates, configures and starts the consumer; `configure` adjusts it just before start().
// A failed start() is a test failure (EXPECT), and the consumer is returned either way.
inline std::unique_ptr<client::PushConsumer> start_push_consumer(
    const std::string& namesrv, const std::string& group, const std::string& topic, client::MessageListener listener,
    const std::function<void(client::PushConsumer&)>& configure = {}) {
  auto consumer = std::make_unique<client::PushConsumer>(group);
  consumer->set_namesrv_addr(namesrv);
  consumer->subscribe(topic, "*");
  consumer->set_consume_from_where(client::ConsumeFromWhere::kFirstOffset);
  consumer->set_rebalance_interval_ms(1000);
  consumer->set_persist_offset_interval_ms(500);
  consumer->register_message_listener(std::move(listener));
  if (configure) configure(*consumer);
  auto status = consumer->start();
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return consumer;
}

}  // namespace mq::testing
