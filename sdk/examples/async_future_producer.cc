// example_async_future_producer: sends <count> messages with send_future and waits for all.
// Usage: example_async_future_producer <topic> [count]   (name servers: NAMESRV_ADDR)
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "mq/client/producer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_async_future_producer <topic> [count]   (set NAMESRV_ADDR)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const int count = argc > 2 ? std::atoi(argv[2]) : 100;
  mq::client::Producer producer("example_async_producer_group");
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  std::vector<std::future<mq::client::SendResult>> pending;
  for (int i = 0; i < count; ++i) pending.push_back(producer.send_future(mq::client::Message(topic, "async " + std::to_string(i))));
  int ok = 0;
  for (auto& f : pending) {
    mq::client::SendResult r = f.get();
    if (r.ok()) {
      ++ok;
    } else {
      std::cerr << "send failed: " << r.remark << '\n';
    }
  }
  (void)producer.shutdown();
  std::cout << ok << " of " << count << " sent\n";
  return ok == count ? 0 : 1;
}
