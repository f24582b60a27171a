// mqbench's raw back end against a real broker: what it produces (pipelined async batches)
// is all consumed back from the first offset by the pipelined pull sweep, with no error.
#include <string>

#include <gtest/gtest.h>

#include "support/broker_process.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;

// The summary line (the last line of mqbench's output) must report `msgs` and no error.
void expect_summary(const CommandResult& r, const std::string& msgs) {
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string last = r.output.substr(r.output.rfind('{'));
  EXPECT_NE(last.find("\"errors\":0"), std::string::npos) << last;
  EXPECT_NE(last.find("\"msgs\":" + msgs + ","), std::string::npos) << last;
}

TEST(MqbenchE2ETest, PipelinedRawProduceIsConsumedBackWhole) {
  TempDir dir("mqbench");
  BrokerProcess broker(dir.path(), BrokerOptions{});
  broker.start();
  const std::string bench = bin_path("mqbench");
  auto produced = run_command({bench,         "produce", "--backend", "raw",      "--server",   broker.broker_addr(),
                               "--send",      "async",   "--batch",   "64",       "--window",   "8",
                               "--producers", "2",       "--size",    "200",      "--queues",   "8",
                               "--messages",  "30720",   "--topic",   "BenchE2E", "--progress", "0"},
                              120s);
  expect_summary(produced, "30720");  // 2 producers x 240 calls of 64
  auto consumed = run_command({bench,        "consume", "--backend",  "raw",   "--server",   broker.broker_addr(),
                               "--from",     "first",   "--queues",   "0",     "--topic",    "BenchE2E",
                               "--size",     "200",     "--messages", "30720", "--duration", "60",
                               "--progress", "0"},
                              120s);
  // Exactly what was produced: a reply matched to the wrong queue would re-read or skip.
  expect_summary(consumed, "30720");
}

}  // namespace
}  // namespace mq::testing
