// example_consumer: a push consumer printing messages until Ctrl-C or <count> messages.
// Usage: example_consumer <topic> [count] [group] [expression] (name servers: NAMESRV_ADDR).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "mq/client/push_consumer.h"

namespace {
std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_consumer <topic> [count] [group] [\"TagA || TagB\"]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const long limit = argc > 2 ? std::atol(argv[2]) : 0;  // 0: until Ctrl-C
  const std::string group = argc > 3 ? argv[3] : "example_consumer_group";
  const std::string expression = argc > 4 ? argv[4] : "*";
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::atomic<long> received{0};
  std::mutex print_mu;
  mq::client::PushConsumer consumer(group);
  consumer.subscribe(topic, expression);
  consumer.set_consume_from_where(mq::client::ConsumeFromWhere::kFirstOffset);
  consumer.register_message_listener([&](const std::vector<mq::client::MessageExt>& messages) {
    std::lock_guard lock(print_mu);
    for (const auto& m : messages) {
      std::cout << "queue=" << m.queue_id() << " offset=" << m.queue_offset() << " msgId=" << m.msg_id()
                << " tags=" << m.tags() << " keys=" << m.keys() << " body=" << m.body() << std::endl;
      ++received;
    }
    return mq::client::ConsumeStatus::kConsumeSuccess;
  });
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  while (!g_interrupted.load() && (limit <= 0 || received.load() < limit)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)consumer.shutdown();
  std::cout << "received " << received.load() << " messages\n";
  return 0;
}
