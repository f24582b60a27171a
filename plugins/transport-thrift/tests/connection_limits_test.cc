// Per-connection bounds: a connection with maxInflightPerConnection requests in flight is
// not read further until one completes, and a peer that pipelines requests without reading
// its replies is disconnected once maxPendingReplyBytes of replies wait to be written.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "mq_types.h"
#include "test_support.h"
#include "transport_options.h"

namespace mq::transport_thrift::testing {
namespace {

using namespace std::chrono_literals;

// A framed "pull" call for topic `topic` queue `queue_id` (the args struct: field 1 = request).
std::string pull_frame(const std::string& topic, int32_t queue_id, int32_t seqid) {
  auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol protocol(buffer);
  protocol.writeStructBegin("pull_args");
  protocol.writeFieldBegin("request", apache::thrift::protocol::T_STRUCT, 1);
  wire::PullRequest request;
  request.topic = topic;
  request.queueId = queue_id;
  request.write(&protocol);
  protocol.writeFieldEnd();
  protocol.writeFieldStop();
  protocol.writeStructEnd();
  return frame(call_message("pull", seqid, buffer->getBufferAsString()));
}

TEST(ConnectionLimits, InflightLimitPausesReadingUntilARequestCompletes) {
  constexpr int kLimit = 4;
  constexpr int kSent = 10;
  FakeBrokerApi api;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Reply<PullResponse>> held;  // guarded by mu
  int arrived = 0;                        // guarded by mu
  api.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    std::lock_guard lock(mu);
    held.push_back(std::move(reply));
    ++arrived;
    cv.notify_all();
  };
  TransportOptions options;
  options.max_inflight_per_connection = kLimit;
  TransportHarness harness(options);
  harness.serve_broker(api);

  RawSocket socket(harness.broker_port());
  std::string all;
  for (int i = 0; i < kSent; ++i) all += pull_frame("T", i, i + 1);
  socket.send_bytes(all);

  auto arrived_at_least = [&](int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return arrived >= n; });
  };
  ASSERT_TRUE(arrived_at_least(kLimit));
  std::this_thread::sleep_for(200ms);  // room for a broken limit to let more through
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(arrived, kLimit) << "requests beyond maxInflightPerConnection were read";
  }

  // Each completion admits exactly one more request.
  auto complete_one = [&] {
    Reply<PullResponse> reply;
    {
      std::lock_guard lock(mu);
      reply = std::move(held.front());
      held.erase(held.begin());
    }
    PullResponse response;
    response.status = Status(Code::kPullNotFound, "none");
    reply(std::move(response));
  };
  complete_one();
  ASSERT_TRUE(arrived_at_least(kLimit + 1));
  std::this_thread::sleep_for(100ms);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(arrived, kLimit + 1);
  }
  // Drain: every request is eventually read and answered exactly once. Replies follow
  // completion order (held requests complete whenever the test says), which need not be
  // seqid order.
  for (int done = 1; done < kSent; ++done) {
    ASSERT_TRUE(arrived_at_least(std::min(kSent, kLimit + done)));
    complete_one();
  }
  std::vector<int32_t> seqids;
  for (int i = 0; i < kSent; ++i) {
    auto payload = socket.read_frame();
    ASSERT_TRUE(payload) << "reply " << i << " missing";
    DecodedReply reply = decode_reply(*payload);
    EXPECT_EQ(reply.name, "pull");
    seqids.push_back(reply.seqid);
  }
  std::sort(seqids.begin(), seqids.end());
  for (int i = 0; i < kSent; ++i) EXPECT_EQ(seqids[static_cast<size_t>(i)], i + 1);
}

TEST(ConnectionLimits, PeerThatDoesNotReadRepliesIsDisconnected) {
  constexpr size_t kBody = 1 << 20;
  constexpr int kSent = 64;  // 64 MiB of replies: far more than socket buffers absorb
  FakeBrokerApi api;
  std::atomic<int> answered{0};
  api.on_pull = [&](PullRequest request, Reply<PullResponse> reply) {
    PullResponse response;
    StoredMessage m;
    m.topic = request.topic;
    m.body.assign(kBody, 'x');
    response.messages.push_back(std::move(m));
    ++answered;
    reply(std::move(response));
  };
  api.on_topics = [] { return std::vector<TopicConfig>{}; };
  TransportOptions options;
  options.max_pending_reply_bytes = 4 << 20;
  TransportHarness harness(options);
  harness.serve_broker(api);

  RawSocket socket(harness.broker_port(), 10000);
  std::string all;
  for (int i = 0; i < kSent; ++i) all += pull_frame("T", 0, i);
  socket.send_bytes(all);
  // Nothing is read by us. Without the cap every request would be read and answered
  // (replies queue without bound); with it the server closes the connection and stops
  // reading, so the answered count settles below what was sent.
  int last = -1;
  for (int stable = 0; stable < 30;) {  // 300 ms without change
    std::this_thread::sleep_for(10ms);
    int now = answered.load();
    stable = now == last ? stable + 1 : 0;
    last = now;
  }
  EXPECT_LT(last, kSent) << "every request was read although no reply was";

  // The replies already in the socket buffers arrive, then the connection ends early.
  int frames = 0;
  bool ended = false;
  try {
    while (socket.read_frame()) ++frames;
    ended = true;  // EOF
  } catch (const std::runtime_error& e) {
    ended = std::string(e.what()).find("timeout") == std::string::npos;  // reset or cut inside a frame
  }
  EXPECT_TRUE(ended) << "the connection stayed open";
  EXPECT_LT(frames, kSent) << "every reply was delivered: the pending-reply cap did not apply";

  // The server itself is fine: a new connection is served.
  auto channel = harness.connect_broker();
  wire::TopicListResponse topics;
  channel->broker().getTopicList(topics);
  EXPECT_TRUE(topics.topics.empty());
}

}  // namespace
}  // namespace mq::transport_thrift::testing
