// Held pulls pin no thread: with one io thread, 50 pulls held by the broker on 50
// connections do not stop other requests from being answered, and each held pull later
// gets its own reply.
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

TEST(HeldPull, FiftyHeldPullsDoNotBlockOneIoThread) {
  constexpr int kHeld = 50;
  FakeBrokerApi api;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<PullRequest, Reply<PullResponse>>> held;
  api.on_pull = [&](PullRequest request, Reply<PullResponse> reply) {
    std::lock_guard lock(mu);
    held.emplace_back(std::move(request), std::move(reply));
    cv.notify_all();
  };
  api.on_topics = [] { return std::vector<TopicConfig>{{"T", 4, 4, 6}}; };
  api.on_max_offset = [](const std::string&, QueueId q) { return Result<QueueOffset>(QueueOffset(q + 100)); };

  TransportOptions options;
  options.io_threads = 1;
  TransportHarness harness(options);
  harness.serve_broker(api);

  // Each client connection waits in pull(); the reply must carry its own queue id.
  std::vector<std::thread> clients;
  std::vector<int32_t> answered(kHeld, -1);
  for (int i = 0; i < kHeld; ++i) {
    clients.emplace_back([&, i] {
      auto channel = harness.connect_broker();
      wire::PullRequest request;
      request.topic = "T";
      request.queueId = i;
      wire::PullResponse response;
      channel->broker().pull(response, request);
      answered[i] = static_cast<int32_t>(response.nextBeginOffset);
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held.size() == kHeld; }))
        << "only " << held.size() << " pulls reached the broker";
  }

  // Another connection is served while all pulls are held (a pinned thread would time out).
  wire::ChannelOptions quick;
  quick.recv_timeout_ms = 3000;
  auto channel = harness.connect_broker(quick);
  for (int round = 0; round < 20; ++round) {
    wire::TopicListResponse topics;
    channel->broker().getTopicList(topics);
    ASSERT_EQ(topics.topics.size(), 1u);
    wire::OffsetResponse offset;
    wire::QueueRef queue;
    queue.queueId = round;
    channel->broker().getMaxOffset(offset, queue);
    ASSERT_EQ(offset.offset, round + 100);
  }
  for (int i = 0; i < kHeld; ++i) EXPECT_EQ(answered[i], -1) << "pull " << i << " answered before release";

  // Release the held pulls from a thread that is not an io thread.
  std::thread releaser([&] {
    std::lock_guard lock(mu);
    for (auto& [request, reply] : held) {
      PullResponse response;
      response.status = Status(Code::kPullNotFound, "no new message");
      response.next_begin_offset = QueueOffset(1000 + request.queue_id);
      reply(std::move(response));
    }
  });
  releaser.join();
  for (auto& t : clients) t.join();
  for (int i = 0; i < kHeld; ++i) EXPECT_EQ(answered[i], 1000 + i);
}

TEST(HeldPull, ReplyAfterServerAndTransportAreGoneIsDropped) {
  FakeBrokerApi api;
  std::mutex mu;
  std::condition_variable cv;
  Reply<PullResponse> held;
  api.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    std::lock_guard lock(mu);
    held = std::move(reply);
    cv.notify_all();
  };
  auto harness = std::make_unique<TransportHarness>();
  harness->serve_broker(api);
  std::thread client([&] {
    auto channel = harness->connect_broker();
    wire::PullResponse response;
    EXPECT_ANY_THROW(channel->broker().pull(response, wire::PullRequest()));
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return held != nullptr; }));
  }
  harness->broker_server().stop();  // closes the connection: the client sees EOF
  client.join();
  harness.reset();  // servers, io threads and io_context are gone
  // A kernel completing a held pull this late must be harmless (the reply is dropped).
  PullResponse late;
  late.messages.resize(1);
  held(std::move(late));
}

}  // namespace
}  // namespace mq::transport_thrift::testing
