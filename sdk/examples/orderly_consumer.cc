// example_orderly_consumer: an orderly push consumer; checks that each order's steps arrive in
// order (messages from example_ordered_producer: key = order id, body = "order:step").
// Usage: example_orderly_consumer <topic> [count] [group]   (name servers: NAMESRV_ADDR)
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
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
    std::cerr << "usage: example_orderly_consumer <topic> [count] [group]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const long limit = argc > 2 ? std::atol(argv[2]) : 0;
  const std::string group = argc > 3 ? argv[3] : "example_orderly_consumer_group";
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::atomic<long> received{0};
  std::atomic<long> out_of_order{0};
  std::mutex mu;
  std::map<std::string, int> last_step;  // order id -> last step seen
  mq::client::PushConsumer consumer(group);
  consumer.subscribe(topic, "*");
  consumer.set_consume_from_where(mq::client::ConsumeFromWhere::kFirstOffset);
  consumer.register_message_listener_orderly([&](const std::vector<mq::client::MessageExt>& messages) {
    std::lock_guard lock(mu);
    for (const auto& m : messages) {
      const std::string& body = m.body();
      auto colon = body.rfind(':');
      int step = colon == std::string::npos ? 0 : std::atoi(body.c_str() + colon + 1);
      auto it = last_step.find(m.keys());
      if (it != last_step.end() && step < it->second) ++out_of_order;
      last_step[m.keys()] = step;
      std::cout << "queue=" << m.queue_id() << " offset=" << m.queue_offset() << " " << body << std::endl;
      ++received;
    }
    return mq::client::ConsumeOrderlyStatus::kSuccess;
  });
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  while (!g_interrupted.load() && (limit <= 0 || received.load() < limit)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)consumer.shutdown();
  std::cout << "received " << received.load() << " messages, " << out_of_order.load() << " out of order\n";
  return out_of_order.load() == 0 ? 0 : 1;
}
