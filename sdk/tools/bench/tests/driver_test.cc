// The load generator against an in-memory back end: counts, batches, errors, catch-up consume,
// e2e latency and the JSON summary fields.
#include "driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace mq::bench {
namespace {

// A log of bodies shared by senders and receivers; fail_every > 0 rejects every n-th call.
struct Log {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<int> queues;  // of each call
  int calls = 0;
  int fail_every = 0;
};

class MemSender final : public Sender {
 public:
  explicit MemSender(Log* log) : log_(log) {}
  bool send_sync(int queue, const std::vector<std::string>& bodies, std::string* error) override {
    std::lock_guard lock(log_->mu);
    log_->queues.push_back(queue);
    if (log_->fail_every > 0 && ++log_->calls % log_->fail_every == 0) {
      *error = "rejected";
      return false;
    }
    log_->bodies.insert(log_->bodies.end(), bodies.begin(), bodies.end());
    return true;
  }
  void send_async(int q, const std::vector<std::string>& bodies, int64_t tag, const SendDone& done) override {
    std::string error;
    done(send_sync(q, bodies, &error), tag, static_cast<int>(bodies.size()));
  }
  void drain() override {}

 private:
  Log* log_;
};

class MemReceiver final : public Receiver {
 public:
  MemReceiver(Log* log, size_t next) : log_(log), next_(next) {}
  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    while (!stop.load()) {
      std::vector<std::string> got;
      {
        std::lock_guard lock(log_->mu);
        got.assign(log_->bodies.begin() + static_cast<long>(next_), log_->bodies.end());
        next_ = log_->bodies.size();
      }
      for (const auto& b : got) sink.message(b);
      if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  Log* log_;
  size_t next_;
};

class MemBackend final : public Backend {
 public:
  std::string name() const override { return "mem"; }
  bool prepare(const BenchOptions&, std::string*) override { return true; }
  std::unique_ptr<Sender> make_sender(int, std::string*) override { return std::make_unique<MemSender>(&log); }
  std::unique_ptr<Receiver> make_receiver(bool from_first, std::string*) override {
    std::lock_guard lock(log.mu);
    return std::make_unique<MemReceiver>(&log, from_first ? 0 : log.bodies.size());
  }
  bool wait_primed(int queues, int64_t, std::string*) override {
    std::lock_guard lock(log.mu);
    primed_queues = queues;
    bodies_when_primed = static_cast<int>(log.bodies.size());
    return true;
  }
  Log log;
  int primed_queues = -1;       // what the driver waited for after the warm-up's sends,
  int bodies_when_primed = -1;  // and how many bodies had been sent then
};

nlohmann::json run(const std::vector<std::string>& args, Backend& backend, int* rc = nullptr) {
  BenchOptions o;
  std::string error;
  EXPECT_TRUE(parse_options(args, &o, &error)) << error;
  o.progress = false;
  std::ostringstream out;
  int code = run_benchmark(o, backend, out);
  if (rc) *rc = code;
  return nlohmann::json::parse(out.str());
}

TEST(Driver, BornTimeRoundTrips) {
  std::string body(16, 'x');
  put_born(&body, 123456789012345);
  EXPECT_EQ(get_born(body), 123456789012345);
  EXPECT_EQ(get_born("short"), 0);
}

TEST(Driver, ProducesExactlyTheRequestedMessagesInBatches) {
  MemBackend b;
  auto j =
      run({"produce", "--send", "sync", "--batch", "10", "--producers", "3", "--messages", "3000", "--size", "100"}, b);
  EXPECT_EQ(j["msgs"], 3000);
  EXPECT_EQ(b.log.bodies.size(), 3000u);
  EXPECT_EQ(b.log.bodies[0].size(), 100u);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_EQ(j["mode"], "produce");
  EXPECT_EQ(j["size"], 100);
  for (const char* key : {"secs", "msgs_per_s", "mb_per_s", "p50_us", "p99_us", "p999_us"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_LE(j["p50_us"].get<double>(), j["p99_us"].get<double>());
  EXPECT_FALSE(j.contains("broker_cpu_us_per_msg"));
}

TEST(Driver, WarmUpPrimesEveryQueueOnceAndIsNotCounted) {
  MemBackend b;
  auto j = run({"produce", "--send", "sync", "--queues", "5", "--messages", "100", "--warmup", "0.01"}, b);
  EXPECT_EQ(j["msgs"], 100);
  EXPECT_EQ(b.primed_queues, 5);
  EXPECT_EQ(b.bodies_when_primed, 5);  // after the warm-up's sends, before the timed ones
  ASSERT_EQ(b.log.bodies.size(), 105u);
  ASSERT_GE(b.log.queues.size(), 5u);
  for (int q = 0; q < 5; ++q) {
    EXPECT_EQ(b.log.queues[q], q);
    EXPECT_EQ(b.log.bodies[q], std::string(128, 'w'));
  }
}

TEST(Driver, WarmUpWithoutWaitDoesNotAskTheBackEnd) {
  MemBackend b;
  auto j = run({"produce", "--send=sync", "--queues=3", "--messages=10", "--warmup=0.01", "--warmup-wait=0"}, b);
  EXPECT_EQ(j["msgs"], 10);
  EXPECT_EQ(b.primed_queues, -1);
  EXPECT_EQ(b.log.bodies.size(), 13u);
}

TEST(Driver, CountsRejectedCallsAsErrors) {
  MemBackend b;
  b.log.fail_every = 4;
  auto j = run({"produce", "--send", "async", "--messages", "400"}, b);
  EXPECT_EQ(j["msgs"], 300);
  EXPECT_EQ(j["errors"], 100);
}

TEST(Driver, OnewayUnsupportedFailsTheRun) {
  MemBackend b;
  int rc = 0;
  auto j = run({"produce", "--send", "oneway", "--messages", "10"}, b, &rc);
  EXPECT_EQ(j["msgs"], 0);
  EXPECT_EQ(j["errors"], 10);
  EXPECT_EQ(rc, 1);
}

TEST(Driver, CatchUpConsumeReadsTheBacklog) {
  MemBackend b;
  run({"produce", "--send", "sync", "--batch", "50", "--messages", "5000"}, b);
  auto j = run({"consume", "--from", "first", "--messages", "5000", "--duration", "20"}, b);
  EXPECT_EQ(j["msgs"], 5000);
  EXPECT_EQ(j["mode"], "consume");
}

TEST(Driver, E2eMeasuresBornToConsumeAtAFixedRate) {
  MemBackend b;
  auto j = run({"e2e", "--rate", "2000", "--duration", "0.5", "--send", "sync"}, b);
  EXPECT_EQ(j["msgs"], j["produced"]);
  EXPECT_NEAR(j["produced"].get<double>(), 1000, 150);  // the rate is respected
  EXPECT_GT(j["p50_us"].get<double>(), 0);
  EXPECT_LT(j["p50_us"].get<double>(), 1e6);
}

TEST(Driver, ReadsOwnCpuTimeAndReportsBrokerCpu) {
  EXPECT_GE(process_cpu_us(getpid()), 0);
  EXPECT_EQ(process_cpu_us(0x7fffffff), -1);
  MemBackend b;
  auto j = run({"produce", "--messages", "1000", "--broker-pid", std::to_string(getpid())}, b);
  EXPECT_TRUE(j.contains("broker_cpu_us_per_msg"));
}

}  // namespace
}  // namespace mq::bench
