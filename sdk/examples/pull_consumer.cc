// example_pull_consumer: reads every queue of a topic from the group's committed offset (or
// the queue's start) to its end with PullConsumer, then commits the new offsets.
// Usage: example_pull_consumer <topic> [group]   (name servers: NAMESRV_ADDR)
#include <iostream>
#include <string>

#include "mq/client/pull_consumer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_pull_consumer <topic> [group]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  mq::client::PullConsumer consumer(argc > 2 ? argv[2] : "example_pull_consumer_group");
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  mq::client::Status status;
  auto queues = consumer.fetch_subscribe_message_queues(topic, &status);
  if (!status) {
    std::cerr << "no queues: " << status.to_string() << '\n';
    return 1;
  }
  long total = 0;
  for (const auto& q : queues) {
    int64_t offset = consumer.fetch_consume_offset(q);
    if (offset < 0) offset = consumer.min_offset(q);
    if (offset < 0) continue;
    for (;;) {
      mq::client::PullResult r = consumer.pull(q, "*", offset, 32);
      if (r.status == mq::client::PullResult::PullStatus::kFound) {
        for (const auto& m : r.messages) std::cout << q.to_string() << " offset=" << m.queue_offset() << " " << m.body() << '\n';
        total += static_cast<long>(r.messages.size());
      } else if (r.status == mq::client::PullResult::PullStatus::kError) {
        std::cerr << "pull " << q.to_string() << " failed: " << r.remark << '\n';
        break;
      }
      if (r.status == mq::client::PullResult::PullStatus::kNoNewMsg || r.next_begin_offset <= offset) break;
      offset = r.next_begin_offset;
    }
    (void)consumer.update_consume_offset(q, offset);
  }
  (void)consumer.shutdown();
  std::cout << "pulled " << total << " messages\n";
  return 0;
}
