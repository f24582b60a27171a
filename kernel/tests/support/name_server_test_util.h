// Helpers of the NameServerCore tests: topics, registrations and a fixture with a fake clock.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "namesrv/name_server_core.h"

namespace mq::kernel::test {

inline TopicConfig topic(const std::string& name, int32_t queues = 4) {
  TopicConfig t;
  t.topic_name = name;
  t.read_queue_nums = queues;
  t.write_queue_nums = queues;
  return t;
}

inline BrokerRegistration registration(const std::string& name, int64_t id, const std::string& addr,
                                       std::vector<TopicConfig> topics, int64_t timeout_ms = 1000) {
  BrokerRegistration r;
  r.cluster_name = "DefaultCluster";
  r.broker_name = name;
  r.broker_id = id;
  r.broker_addr = addr;
  r.topics = std::move(topics);
  r.heartbeat_timeout_ms = timeout_ms;
  return r;
}

// settings() drive the name server's clock from now_ (advance it to expire brokers).
class NameServerFixture : public ::testing::Test {
 protected:
  NameServerSettings settings() {
    NameServerSettings s;
    s.clock_ms = [this] { return now_.load(); };
    return s;
  }
  std::atomic<int64_t> now_{1'000'000};
  std::shared_ptr<spdlog::logger> log_ =
      std::make_shared<spdlog::logger>("namesrv-test", std::make_shared<spdlog::sinks::null_sink_mt>());
};

}  // namespace mq::kernel::test
