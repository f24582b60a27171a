// example_ordered_producer: sends <orders> x <steps> messages; all steps of one order go to
// the same queue (select_by_hash on the order id), so an orderly consumer sees them in order.
// Usage: example_ordered_producer <topic> [orders] [steps]   (name servers: NAMESRV_ADDR)
#include <cstdlib>
#include <iostream>
#include <string>

#include "mq/client/producer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_ordered_producer <topic> [orders] [steps]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const int orders = argc > 2 ? std::atoi(argv[2]) : 10;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 5;
  mq::client::Producer producer("example_ordered_producer_group");
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  auto selector = mq::client::Producer::select_by_hash();
  int failures = 0;
  for (int step = 0; step < steps; ++step) {
    for (int order = 0; order < orders; ++order) {
      const std::string order_id = "order-" + std::to_string(order);
      mq::client::Message m(topic, "step" + std::to_string(step), order_id, order_id + ":" + std::to_string(step));
      mq::client::SendResult r = producer.send(m, selector, order_id);
      if (!r.ok()) {
        ++failures;
        std::cerr << order_id << " step " << step << " failed: " << r.remark << '\n';
        continue;
      }
      std::cout << order_id << " step " << step << " -> " << r.message_queue.to_string() << " offset "
                << r.queue_offset << '\n';
    }
  }
  (void)producer.shutdown();
  return failures == 0 ? 0 : 1;
}
