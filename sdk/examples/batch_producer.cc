// example_batch_producer: sends <batches> batches of <size> messages; each batch is stored
// consecutively in one queue.
// Usage: example_batch_producer <topic> [batches] [size]   (name servers: NAMESRV_ADDR)
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "mq/client/producer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_batch_producer <topic> [batches] [size]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const int batches = argc > 2 ? std::atoi(argv[2]) : 3;
  const int size = argc > 3 ? std::atoi(argv[3]) : 10;
  mq::client::Producer producer("example_batch_producer_group");
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  int failures = 0;
  for (int b = 0; b < batches; ++b) {
    std::vector<mq::client::Message> batch;
    for (int i = 0; i < size; ++i) {
      batch.emplace_back(topic, "TagA", "batch-" + std::to_string(b), "batch " + std::to_string(b) + " #" + std::to_string(i));
    }
    mq::client::SendResult r = producer.send_batch(batch);
    if (!r.ok()) {
      ++failures;
      std::cerr << "batch " << b << " failed: " << r.remark << '\n';
      continue;
    }
    std::cout << "batch " << b << " -> " << r.message_queue.to_string() << '\n';
    for (const auto& item : r.batch) std::cout << "  msgId=" << item.msg_id << " offset=" << item.queue_offset << '\n';
  }
  (void)producer.shutdown();
  return failures == 0 ? 0 : 1;
}
