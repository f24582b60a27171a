// example_broadcast_consumer: a broadcasting push consumer: every instance receives every
// message; offsets are kept in a local file (stable across restarts with a fixed instance name).
// Usage: example_broadcast_consumer <topic> [count] [instance] [group]   (name servers: NAMESRV_ADDR)
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "mq/client/push_consumer.h"

namespace {
std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_broadcast_consumer <topic> [count] [instance] [group]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const long limit = argc > 2 ? std::atol(argv[2]) : 0;
  const std::string instance = argc > 3 ? argv[3] : "";
  const std::string group = argc > 4 ? argv[4] : "example_broadcast_group";
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::atomic<long> received{0};
  mq::client::PushConsumer consumer(group);
  consumer.set_message_model(mq::client::MessageModel::kBroadcasting);
  if (!instance.empty()) consumer.set_instance_name(instance);
  consumer.subscribe(topic, "*");
  consumer.set_consume_from_where(mq::client::ConsumeFromWhere::kFirstOffset);
  consumer.register_message_listener([&](const std::vector<mq::client::MessageExt>& messages) {
    received += static_cast<long>(messages.size());
    return mq::client::ConsumeStatus::kConsumeSuccess;
  });
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  std::cout << "consumer " << consumer.client_id() << " started\n";
  while (!g_interrupted.load() && (limit <= 0 || received.load() < limit)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)consumer.shutdown();
  std::cout << "received " << received.load() << " messages\n";
  return 0;
}
