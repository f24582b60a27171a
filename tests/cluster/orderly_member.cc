// cluster_orderly_member: one member of an orderly consumer group, run as its own process so a
// cluster test can SIGKILL it. Prints "READY" once started, then one flushed line per consumed
// message: "DELIVERED <steady-clock ns> <store host>#<queue id> <body>".
// Usage: cluster_orderly_member <namesrv list> <group> <topic> <instance name> <sleep ms per message>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "mq/client/push_consumer.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: cluster_orderly_member <namesrv list> <group> <topic> <instance name> <sleep ms>\n";
    return 2;
  }
  const std::chrono::milliseconds sleep_per_message(std::atol(argv[5]));
  // The listener runs on several consume threads at once (one per queue): each line is built
  // whole and written under this lock, or the threads' pieces interleave into lines the test
  // cannot parse (it then misses those deliveries). Declared first: it outlives the consumer.
  std::mutex out_mu;
  mq::client::PushConsumer consumer(argv[2]);
  consumer.set_namesrv_addr(argv[1]);
  consumer.set_instance_name(argv[4]);
  consumer.subscribe(argv[3], "*");
  consumer.set_consume_from_where(mq::client::ConsumeFromWhere::kFirstOffset);
  consumer.set_rebalance_interval_ms(1000);
  consumer.set_heartbeat_interval_ms(1000);
  consumer.set_persist_offset_interval_ms(500);
  consumer.set_pull_suspend_timeout_ms(2000);
  consumer.register_message_listener_orderly([&](const std::vector<mq::client::MessageExt>& messages) {
    for (const auto& m : messages) {
      // CLOCK_MONOTONIC is system-wide: the test orders these against its own members' records.
      const auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
              .count();
      const std::string line = "DELIVERED " + std::to_string(ns) + ' ' + m.store_host() + '#' +
                               std::to_string(m.queue_id()) + ' ' + m.body() + '\n';
      {
        std::lock_guard lock(out_mu);
        std::cout << line << std::flush;  // flushed: the line survives a SIGKILL right after
      }
      std::this_thread::sleep_for(sleep_per_message);
    }
    return mq::client::ConsumeOrderlyStatus::kSuccess;
  });
  if (mq::client::Status s = consumer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << std::endl;
    return 1;
  }
  {
    std::lock_guard lock(out_mu);
    std::cout << "READY" << std::endl;
  }
  // The test kills this process; the bound only keeps an orphan from living on.
  std::this_thread::sleep_for(std::chrono::minutes(2));
  (void)consumer.shutdown();
  return 0;
}
