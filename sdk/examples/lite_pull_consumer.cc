// example_lite_pull_consumer: subscribes a topic with LitePullConsumer and polls until
// <count> messages or Ctrl-C; offsets are committed automatically.
// Usage: example_lite_pull_consumer <topic> [count] [group]   (name servers: NAMESRV_ADDR)
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "mq/client/lite_pull_consumer.h"

namespace {
std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_lite_pull_consumer <topic> [count] [group]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const long limit = argc > 2 ? std::atol(argv[2]) : 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  mq::client::LitePullConsumer consumer(argc > 3 ? argv[3] : "example_lite_pull_group");
  consumer.subscribe(topic, "*");
  consumer.set_consume_from_where(mq::client::ConsumeFromWhere::kFirstOffset);
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  long received = 0;
  while (!g_interrupted.load() && (limit <= 0 || received < limit)) {
    for (const auto& m : consumer.poll(1000)) {
      std::cout << "queue=" << m.queue_id() << " offset=" << m.queue_offset() << " " << m.body() << '\n';
      ++received;
    }
  }
  (void)consumer.shutdown();
  std::cout << "received " << received << " messages\n";
  return 0;
}
