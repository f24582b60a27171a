// transaction_e2e_producer: a transactional producer run as its own process so
// transaction_e2e_tests can SIGKILL it between the half message and the end call.
// Sends one transactional message per body argument, each from its own thread; every local
// transaction prints "HALF <body>" (flushed) and then blocks forever, so the process holds
// halves whose outcome the broker never learns. Prints "READY" once started.
// Usage: transaction_e2e_producer <namesrv list> <group> <topic> <body>...
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mq/client/transaction_producer.h"

namespace {

class BlockingListener : public mq::client::TransactionListener {
 public:
  mq::client::LocalTransactionState execute_local_transaction(const mq::client::Message& message,
                                                              const std::string&) override {
    std::cout << "HALF " << message.body() << std::endl;   // endl flushes: visible before the kill
    std::this_thread::sleep_for(std::chrono::minutes(5));  // the test kills the process
    return mq::client::LocalTransactionState::kUnknow;
  }
  mq::client::LocalTransactionState check_local_transaction(const mq::client::MessageExt&) override {
    return mq::client::LocalTransactionState::kUnknow;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: transaction_e2e_producer <namesrv list> <group> <topic> <body>...\n";
    return 2;
  }
  mq::client::TransactionProducer producer(argv[2]);
  producer.set_namesrv_addr(argv[1]);
  producer.set_transaction_listener(std::make_shared<BlockingListener>());
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << std::endl;
    return 1;
  }
  std::cout << "READY" << std::endl;
  std::vector<std::thread> senders;
  for (int i = 4; i < argc; ++i) {
    std::string body = argv[i];
    senders.emplace_back([&producer, &argv, body] {
      auto r = producer.send_message_in_transaction(mq::client::Message(argv[3], body), body);
      if (!r.ok()) std::cout << "FAILED " << body << " " << r.remark << std::endl;
    });
  }
  for (auto& t : senders) t.join();
  return 0;
}
