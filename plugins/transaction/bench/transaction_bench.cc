// transaction_bench: transactional sends per second (PREPARED send + local transaction +
// endTransaction COMMIT) against plain synchronous sends, in the same run, through a real
// mqbroker (started here with the transaction plugin, from $MQ_BUILD_DIR) and the C++ SDK.
// Prints one JSON object; asserts nothing.
// Usage: transaction_bench [--messages N] [--threads T] [--body BYTES] [--runs R]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster_support.h"
#include "mq/client/producer.h"
#include "mq/client/transaction_producer.h"
#include "support/broker_process.h"

namespace {

using Clock = std::chrono::steady_clock;

class CommitListener : public mq::client::TransactionListener {
 public:
  mq::client::LocalTransactionState execute_local_transaction(const mq::client::Message&, const std::string&) override {
    return mq::client::LocalTransactionState::kCommitMessage;
  }
  mq::client::LocalTransactionState check_local_transaction(const mq::client::MessageExt&) override {
    return mq::client::LocalTransactionState::kCommitMessage;
  }
};

// Runs `send(i)` for i in [0, n) over `threads` threads; returns messages per second.
template <typename Send>
double rate(int n, int threads, Send send, int* failures) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = next++; i < n; i = next++)
        if (!send(i)) ++failed;
    });
  for (auto& w : workers) w.join();
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  *failures += failed.load();
  return n / s;
}

}  // namespace

int main(int argc, char** argv) {
  int messages = 20000;
  int threads = 4;
  int body_size = 1024;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages"))
      messages = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--body"))
      body_size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[i + 1]);
  }
  mq::testing::TempDir dir("mqtxbench");
  mq::testing::BrokerOptions options;
  options.plugins = "storage-mmap,transport-thrift,transaction";
  mq::testing::BrokerProcess broker(dir.path(), options);
  broker.start();
  const char* topic = "TxBenchTopic";
  if (std::string err = mq::testing::create_topic(broker.broker_addr(), topic, 4); !err.empty()) {
    std::fprintf(stderr, "create topic: %s\n", err.c_str());
    return 1;
  }
  mq::testing::wait_for_route(broker.namesrv_addr(), topic, {"broker-a"});

  mq::client::Producer plain("bench-plain");
  plain.set_namesrv_addr(broker.namesrv_addr());
  mq::client::TransactionProducer tx("bench-tx");
  tx.set_namesrv_addr(broker.namesrv_addr());
  tx.set_transaction_listener(std::make_shared<CommitListener>());
  if (!plain.start() || !tx.start()) return 1;
  const std::string body(static_cast<size_t>(body_size), 'x');
  // Warm up connections and routes.
  for (int i = 0; i < 200; ++i) {
    (void)plain.send(mq::client::Message(topic, body));
    (void)tx.send_message_in_transaction(mq::client::Message(topic, body));
  }
  std::vector<double> plain_rates, tx_rates;
  int failures = 0;
  for (int r = 0; r < runs; ++r) {
    plain_rates.push_back(rate(
        messages, threads, [&](int) { return plain.send(mq::client::Message(topic, body)).ok(); }, &failures));
    tx_rates.push_back(rate(
        messages, threads,
        [&](int) {
          auto res = tx.send_message_in_transaction(mq::client::Message(topic, body));
          return res.ok() && res.local_state == mq::client::LocalTransactionState::kCommitMessage;
        },
        &failures));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double p = median(plain_rates), t = median(tx_rates);
  std::printf(
      "{\"messages\":%d,\"threads\":%d,\"body\":%d,\"runs\":%d,\"plain_sync_msgs_per_s\":%.0f,"
      "\"transactional_commit_msgs_per_s\":%.0f,\"ratio\":%.3f,\"failures\":%d}\n",
      messages, threads, body_size, runs, p, t, t / p, failures);
  (void)tx.shutdown();
  (void)plain.shutdown();
  broker.stop(15);
  return 0;
}
