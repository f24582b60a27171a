// example_transaction_producer: sends <count> transactional messages; the local transaction
// of even-numbered ones commits, of odd ones rolls back, and every fifth answers UNKNOW so the
// broker checks it back later (the checker then commits it). Waits for the check-backs, then
// exits. Usage: example_transaction_producer <topic> [count] (name servers: NAMESRV_ADDR).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "mq/client/transaction_producer.h"

namespace {

using mq::client::LocalTransactionState;

class Listener : public mq::client::TransactionListener {
 public:
  LocalTransactionState execute_local_transaction(const mq::client::Message& message, const std::string& arg) override {
    const int i = std::atoi(arg.c_str());
    if (i % 5 == 4) return LocalTransactionState::kUnknow;  // decided later, by the check-back
    (void)message;
    return i % 2 == 0 ? LocalTransactionState::kCommitMessage : LocalTransactionState::kRollbackMessage;
  }
  LocalTransactionState check_local_transaction(const mq::client::MessageExt& message) override {
    ++checked;
    std::cout << "check-back for " << message.msg_id() << " (" << message.body() << "): commit\n";
    return LocalTransactionState::kCommitMessage;
  }
  std::atomic<int> checked{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: example_transaction_producer <topic> [count]   (set NAMESRV_ADDR=host:9876)\n";
    return 2;
  }
  const std::string topic = argv[1];
  const int count = argc > 2 ? std::atoi(argv[2]) : 10;

  auto listener = std::make_shared<Listener>();
  mq::client::TransactionProducer producer("example_transaction_group");
  producer.set_transaction_listener(listener);
  if (mq::client::Status s = producer.start(); !s) {
    std::cerr << "start failed: " << s.to_string() << '\n';
    return 1;
  }
  int unknown = 0;
  for (int i = 0; i < count; ++i) {
    mq::client::Message message(topic, "TagTx", "tx-" + std::to_string(i), "transaction " + std::to_string(i));
    auto r = producer.send_message_in_transaction(message, std::to_string(i));
    std::cout << "#" << i << " " << mq::client::send_status_name(r.status) << " msgId=" << r.msg_id
              << " local=" << mq::client::local_transaction_state_name(r.local_state) << '\n';
    if (!r.ok()) std::cout << "  failed: " << r.remark << '\n';
    if (r.ok() && r.local_state == LocalTransactionState::kUnknow) ++unknown;
  }
  // The broker checks UNKNOW halves after transaction.transactionTimeout, on its check interval.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (listener->checked < unknown && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::cout << listener->checked << " of " << unknown << " unknown transaction(s) settled by check-back\n";
  (void)producer.shutdown();
  return listener->checked >= unknown ? 0 : 1;
}
