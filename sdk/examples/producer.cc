// example_producer: sends <count> messages synchronously (tags and keys set), then one async
// and one oneway message. Usage: example_producer <topic> [count] (name servers: NAMESRV_ADDR).
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>

#include "mq/client/producer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_producer <topic> [count]   (set NAMESRV_ADDR=host:9876)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const int count = argc > 2 ? std::atoi(argv[2]) : 10;

  mq::client::Producer producer("example_producer_group");
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  int failures = 0;
  for (int i = 0; i < count; ++i) {
    mq::client::Message message(topic, i % 2 == 0 ? "TagA" : "TagB", "key-" + std::to_string(i),
                                "hello " + std::to_string(i));
    mq::client::SendResult r = producer.send(message);
    if (r.ok()) {
      std::cout << "sent #" << i << " " << mq::client::send_status_name(r.status) << " msgId=" << r.msg_id
                << " queue=" << r.message_queue.to_string() << " offset=" << r.queue_offset << '\n';
    } else {
      ++failures;
      std::cout << "send #" << i << " failed: " << mq::client::code_name(r.code) << "(" << r.code << "): " << r.remark
                << '\n';
    }
  }

  std::promise<mq::client::SendResult> done;
  producer.send_async(mq::client::Message(topic, "TagA", "async-key", "hello async"),
                      [&done](const mq::client::SendResult& r) { done.set_value(r); });
  mq::client::SendResult async_result = done.get_future().get();
  std::cout << "async: " << (async_result.ok() ? "ok msgId=" + async_result.msg_id : async_result.remark) << '\n';
  if (!async_result.ok()) ++failures;

  mq::client::Status oneway = producer.send_oneway(mq::client::Message(topic, "TagA", "oneway-key", "hello oneway"));
  std::cout << "oneway: " << oneway.to_string() << '\n';
  if (!oneway) ++failures;

  (void)producer.shutdown();
  return failures == 0 ? 0 : 1;
}
