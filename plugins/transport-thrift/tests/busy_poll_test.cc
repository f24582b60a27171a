// The io threads' busy polling (transport-thrift.busyPollMicros): requests are answered with
// polling off and while a thread polls, an io thread that has been idle for longer than the
// window sleeps (no CPU burnt by an idle broker), and stop() returns while a thread polls.
#include <time.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mq_types.h"
#include "test_support.h"
#include "transport_options.h"

namespace mq::transport_thrift::testing {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds process_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// getTopicList round trips on one connection; each reply must answer its call.
void round_trips(RawSocket& socket, int from, int count) {
  for (int seqid = from; seqid < from + count; ++seqid) {
    socket.send_bytes(frame(call_message("getTopicList", seqid, std::string(1, '\0'))));
    auto payload = socket.read_frame();
    ASSERT_TRUE(payload) << "no reply for seqid " << seqid;
    DecodedReply reply = decode_reply(*payload);
    EXPECT_EQ(reply.name, "getTopicList");
    EXPECT_EQ(reply.seqid, seqid);
    EXPECT_EQ(reply.type, apache::thrift::protocol::T_REPLY) << reply.exception_message;
  }
}

TEST(BusyPoll, RequestsAreAnsweredWithPollingOffAndWhileAThreadPolls) {
  for (uint32_t micros : {0u, 50u, 200'000u}) {
    FakeBrokerApi api;
    api.on_topics = [] { return std::vector<TopicConfig>{}; };
    TransportOptions options;
    options.busy_poll_micros = micros;
    TransportHarness harness(options);
    harness.serve_broker(api);
    RawSocket socket(harness.broker_port());
    round_trips(socket, 1, 200);
    std::this_thread::sleep_for(5ms);  // 50 us: asleep again; 200 ms: still polling
    round_trips(socket, 201, 10);
  }  // harness destroyed: stop() must return while a thread polls within its 200 ms window
}

TEST(BusyPoll, IdleIoThreadsSleepOnceTheWindowHasPassed) {
  FakeBrokerApi api;
  api.on_topics = [] { return std::vector<TopicConfig>{}; };
  TransportOptions options;
  options.io_threads = 2;
  options.busy_poll_micros = 2000;
  TransportHarness harness(options);
  harness.serve_broker(api);
  RawSocket first(harness.broker_port());  // one connection per io thread: both have worked
  RawSocket second(harness.broker_port());
  round_trips(first, 1, 20);
  round_trips(second, 1, 20);
  std::this_thread::sleep_for(50ms);  // far past the 2 ms window
  const auto before = process_cpu_time();
  std::this_thread::sleep_for(300ms);
  const auto burnt = process_cpu_time() - before;
  // Two threads that kept polling would burn ~600 ms of CPU here; sleeping ones next to none.
  EXPECT_LT(burnt, 60ms) << "idle io threads kept polling: "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(burnt).count() << " ms of CPU";
  round_trips(first, 21, 5);  // and they wake up for the next request
  round_trips(second, 21, 5);
}

}  // namespace
}  // namespace mq::transport_thrift::testing
