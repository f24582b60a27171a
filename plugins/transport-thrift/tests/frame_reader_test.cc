// The frame server's reader and threading: frames arriving together, split into single
// bytes or larger than the per-connection read buffer are all answered in order; pipelined
// requests of one connection run in order on that connection's io thread; a held request's
// reply, completed later from another thread, still arrives after the replies of the
// requests pipelined behind it; connections spread over the io threads, pinned or not, and
// with pinned threads a connection follows its peer's thread to another CPU.
#include <sched.h>

#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>
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

// A framed getTopicList call; with `padding` > 0 its (empty) args struct carries an unknown
// binary field of that many bytes, which the processor skips.
std::string topic_list_frame(int32_t seqid, size_t padding = 0) {
  std::string args;
  if (padding > 0) {
    auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
    apache::thrift::protocol::TBinaryProtocol protocol(buffer);
    protocol.writeStructBegin("getTopicList_args");
    protocol.writeFieldBegin("padding", apache::thrift::protocol::T_STRING, 99);
    protocol.writeBinary(std::string(padding, 'p'));
    protocol.writeFieldEnd();
    protocol.writeFieldStop();
    protocol.writeStructEnd();
    args = buffer->getBufferAsString();
  } else {
    args = std::string(1, '\0');
  }
  return frame(call_message("getTopicList", seqid, args));
}

std::string pull_frame(int32_t seqid) {
  auto buffer = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol protocol(buffer);
  protocol.writeStructBegin("pull_args");
  protocol.writeFieldBegin("request", apache::thrift::protocol::T_STRUCT, 1);
  wire::PullRequest request;
  request.topic = "T";
  request.write(&protocol);
  protocol.writeFieldEnd();
  protocol.writeFieldStop();
  protocol.writeStructEnd();
  return frame(call_message("pull", seqid, buffer->getBufferAsString()));
}

// Reads one reply and checks it answers `method` with `seqid` (not an exception).
void expect_reply(RawSocket& socket, const std::string& method, int32_t seqid) {
  auto payload = socket.read_frame();
  ASSERT_TRUE(payload) << "no reply for seqid " << seqid;
  DecodedReply reply = decode_reply(*payload);
  EXPECT_EQ(reply.name, method);
  EXPECT_EQ(reply.seqid, seqid);
  EXPECT_EQ(reply.type, apache::thrift::protocol::T_REPLY) << reply.exception_message;
}

class FrameReader : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.on_topics = [this] {
      std::lock_guard lock(mu_);
      threads_.push_back(std::this_thread::get_id());
      return std::vector<TopicConfig>{};
    };
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mu_);
    return threads_;
  }

  FakeBrokerApi api_;
  std::mutex mu_;
  std::vector<std::thread::id> threads_;  // guarded by mu_: the io thread of each getTopicList
};

TEST_F(FrameReader, ManyFramesInOneWriteAreAnsweredInOrderOnOneThread) {
  constexpr int kFrames = 300;
  TransportOptions options;
  options.io_threads = 2;
  TransportHarness harness(options);
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  std::string all;
  for (int i = 1; i <= kFrames; ++i) all += topic_list_frame(i);
  socket.send_bytes(all);  // one write: the server reads many frames at once
  for (int i = 1; i <= kFrames; ++i) expect_reply(socket, "getTopicList", i);
  auto seen = threads();
  ASSERT_EQ(seen.size(), static_cast<size_t>(kFrames));
  EXPECT_EQ(std::set<std::thread::id>(seen.begin(), seen.end()).size(), 1u)
      << "one connection's requests ran on several io threads";
}

TEST_F(FrameReader, ManyLargeRepliesToOneReadDoNotTripTheUnreadReplyLimit) {
  // 40 calls in one write, each answered with ~5 KiB, under the smallest maxPendingReplyBytes
  // (64 KiB): the replies of one read pass are written as they pile up, and a peer that reads
  // them all is never taken for one that does not read.
  api_.on_topics = [] {
    std::vector<TopicConfig> topics;
    for (int i = 0; i < 120; ++i) topics.push_back(TopicConfig{"topic-with-a-long-name-" + std::to_string(i), 8, 8, 6});
    return topics;
  };
  TransportOptions options;
  options.max_pending_reply_bytes = 64 * 1024;
  TransportHarness harness(options);
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  std::string all;
  for (int i = 1; i <= 40; ++i) all += topic_list_frame(i);
  socket.send_bytes(all);
  for (int i = 1; i <= 40; ++i) expect_reply(socket, "getTopicList", i);
}

namespace {
// The CPUs this thread may run on, and a guard that gives them back.
struct CpuMask {
  cpu_set_t set;
  CpuMask() {
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  }
  std::vector<int> cpus() const {
    std::vector<int> out;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) out.push_back(cpu);
    }
    return out;
  }
  static bool pin(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~CpuMask() { sched_setaffinity(0, sizeof set, &set); }
};
}  // namespace

// ioThreadAffinity=on: each io thread stays on its CPU, and connections opened from one CPU
// (this thread, pinned) still spread over the threads, one apart at most.
TEST_F(FrameReader, PinnedIoThreadsStayOnTheirCpuAndConnectionsStillSpread) {
  std::map<std::thread::id, std::set<int>> cpus;  // guarded by mu_: the CPUs each io thread ran on
  std::map<std::thread::id, int> calls;           // guarded by mu_
  api_.on_topics = [&] {
    std::lock_guard lock(mu_);
    cpus[std::this_thread::get_id()].insert(sched_getcpu());
    ++calls[std::this_thread::get_id()];
    return std::vector<TopicConfig>{};
  };
  CpuMask mine;
  const std::vector<int> allowed = mine.cpus();
  ASSERT_FALSE(allowed.empty()) << "sched_getaffinity failed";
  ASSERT_TRUE(CpuMask::pin(allowed[0]));
  {
    TransportOptions options;
    options.io_threads = 2;
    options.io_thread_affinity = IoThreadAffinity::kOn;
    TransportHarness harness(options);
    harness.serve_broker(api_);
    std::vector<std::unique_ptr<RawSocket>> sockets;
    for (int i = 0; i < 7; ++i) sockets.push_back(std::make_unique<RawSocket>(harness.broker_port()));
    // 20 calls each: fewer than a connection takes to follow its peer (two looks, 16 reads
    // apart), so this shows the placement at accept.
    for (int round = 0; round < 20; ++round) {
      for (size_t i = 0; i < sockets.size(); ++i) {
        const int32_t seqid = round * 10 + static_cast<int32_t>(i);
        sockets[i]->send_bytes(topic_list_frame(seqid));
        expect_reply(*sockets[i], "getTopicList", seqid);
      }
    }
  }
  std::lock_guard lock(mu_);
  ASSERT_EQ(calls.size(), 2u) << "seven connections on one of two io threads";
  std::vector<int> per_thread;
  for (auto& [thread, n] : calls) per_thread.push_back(n);
  EXPECT_EQ(std::abs(per_thread[0] - per_thread[1]), 20) << "connections split 4 / 3 (20 calls each)";
  for (auto& [thread, seen] : cpus) EXPECT_EQ(seen.size(), 1u) << "a pinned io thread ran on several CPUs";
}

// ioThreadAffinity=on: a connection placed on the io thread of its peer's CPU moves to the
// io thread of the CPU its peer moved to, between requests, and every call is answered.
TEST_F(FrameReader, AConnectionFollowsItsPeerToAnotherCpu) {
  CpuMask mine;
  const std::vector<int> cpus = mine.cpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs to move between";
  std::vector<int> served_on;  // guarded by mu_: the CPU each call was served on
  api_.on_topics = [&] {
    std::lock_guard lock(mu_);
    served_on.push_back(sched_getcpu());
    return std::vector<TopicConfig>{};
  };
  auto served = [&](size_t from, size_t to) {
    std::lock_guard lock(mu_);
    return std::set<int>(served_on.begin() + static_cast<std::ptrdiff_t>(from),
                         served_on.begin() + static_cast<std::ptrdiff_t>(to));
  };
  TransportOptions options;
  options.io_threads = 2;
  options.io_thread_affinity = IoThreadAffinity::kOn;  // thread i on cpus[i]
  TransportHarness harness(options);
  harness.serve_broker(api_);
  ASSERT_TRUE(CpuMask::pin(cpus[0]));
  RawSocket socket(harness.broker_port());
  int32_t seqid = 0;
  for (int i = 0; i < 60; ++i, ++seqid) {
    socket.send_bytes(topic_list_frame(seqid));
    expect_reply(socket, "getTopicList", seqid);
  }
  EXPECT_EQ(served(0, 60), std::set<int>{cpus[0]}) << "placed on the io thread of the peer's CPU";
  ASSERT_TRUE(CpuMask::pin(cpus[1]));
  for (int i = 0; i < 60; ++i, ++seqid) {
    socket.send_bytes(topic_list_frame(seqid));
    expect_reply(socket, "getTopicList", seqid);
  }
  // Two looks 16 reads apart find the new CPU within 32 calls.
  EXPECT_EQ(served(100, 120), std::set<int>{cpus[1]}) << "the connection did not follow its peer";
  ASSERT_TRUE(CpuMask::pin(cpus[0]));
  for (int i = 0; i < 60; ++i, ++seqid) {
    socket.send_bytes(topic_list_frame(seqid));
    expect_reply(socket, "getTopicList", seqid);
  }
  EXPECT_EQ(served(160, 180), std::set<int>{cpus[0]}) << "the connection did not follow its peer back";
}

TEST_F(FrameReader, ConnectionsAreSpreadOverTheIoThreads) {
  TransportOptions options;
  options.io_threads = 2;
  options.io_thread_affinity = IoThreadAffinity::kOff;  // least loaded first, whatever the CPU
  TransportHarness harness(options);
  harness.serve_broker(api_);
  RawSocket first(harness.broker_port());
  RawSocket second(harness.broker_port());
  first.send_bytes(topic_list_frame(1));
  expect_reply(first, "getTopicList", 1);
  second.send_bytes(topic_list_frame(2));
  expect_reply(second, "getTopicList", 2);
  auto seen = threads();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[0], seen[1]) << "two connections accepted in a row share an io thread of two";
}

TEST_F(FrameReader, FrameWrittenOneByteAtATimeIsAnswered) {
  TransportHarness harness;
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  socket.set_no_delay();
  const std::string two = topic_list_frame(7) + topic_list_frame(8);
  for (char c : two) socket.send_bytes(std::string(1, c));
  expect_reply(socket, "getTopicList", 7);
  expect_reply(socket, "getTopicList", 8);
  // The connection is still in a clean state for the next frame.
  socket.send_bytes(topic_list_frame(9));
  expect_reply(socket, "getTopicList", 9);
}

TEST_F(FrameReader, FramesLargerThanTheReadBufferAreAnsweredWithTheirNeighbours) {
  TransportHarness harness;
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  // 64 KiB is the initial read buffer: frames of 300 KiB and 2 MiB make it grow, the small
  // ones around them share reads with the large ones' heads and tails.
  const std::string all = topic_list_frame(1) + topic_list_frame(2, 300 * 1024) + topic_list_frame(3) +
                          topic_list_frame(4, 2 * 1024 * 1024) + topic_list_frame(5);
  std::thread writer([&] { socket.send_bytes(all); });
  for (int i = 1; i <= 5; ++i) expect_reply(socket, "getTopicList", i);
  writer.join();
  // Back to small frames after the buffer shrank.
  socket.send_bytes(topic_list_frame(6) + topic_list_frame(7));
  expect_reply(socket, "getTopicList", 6);
  expect_reply(socket, "getTopicList", 7);
}

TEST_F(FrameReader, BatchSizedFramesOfVaryingSizesReuseTheGrownBufferInOrder) {
  TransportHarness harness;
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  // Frames over 64 KiB keep the grown buffer, whose reads then end inside the next frame
  // (smaller or larger than the buffer, or a small one): every frame still answered in order.
  const size_t sizes[] = {70 * 1024, 72 * 1024, 0, 69 * 1024, 100 * 1024, 0, 0, 71 * 1024, 500 * 1024, 65 * 1024};
  std::string all;
  int32_t seqid = 0;
  for (int round = 0; round < 5; ++round)
    for (size_t padding : sizes) all += topic_list_frame(++seqid, padding);
  std::thread writer([&] { socket.send_bytes(all); });
  for (int32_t i = 1; i <= seqid; ++i) expect_reply(socket, "getTopicList", i);
  writer.join();
}

TEST_F(FrameReader, HeldReplyCompletedFromAnotherThreadArrivesAfterLaterRequests) {
  std::mutex mu;
  std::condition_variable cv;
  Reply<PullResponse> held;  // guarded by mu
  api_.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    std::lock_guard lock(mu);
    held = std::move(reply);
    cv.notify_all();
  };
  TransportHarness harness;
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  socket.send_bytes(pull_frame(1) + topic_list_frame(2) + topic_list_frame(3));
  // The pull is held; the requests pipelined behind it are answered meanwhile.
  expect_reply(socket, "getTopicList", 2);
  expect_reply(socket, "getTopicList", 3);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return static_cast<bool>(held); }));
  }
  std::thread completer([&] {
    std::lock_guard lock(mu);
    PullResponse response;
    response.status = Status(Code::kPullNotFound, "none");
    held(std::move(response));
  });
  completer.join();
  expect_reply(socket, "pull", 1);
  // And the connection reads on.
  socket.send_bytes(topic_list_frame(4));
  expect_reply(socket, "getTopicList", 4);
}

// A burst of completions from another thread (a group commit answering many puts) is
// drained together: every reply arrives, in completion order, and the connection reads on.
TEST_F(FrameReader, BurstOfRepliesCompletedFromAnotherThreadArrivesWhole) {
  constexpr int kHeld = 200;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Reply<PullResponse>> held;  // guarded by mu
  api_.on_pull = [&](PullRequest, Reply<PullResponse> reply) {
    std::lock_guard lock(mu);
    held.push_back(std::move(reply));
    cv.notify_all();
  };
  TransportOptions options;
  options.max_inflight_per_connection = kHeld;  // paused: only the drain's freed slots let more in
  TransportHarness harness(options);
  harness.serve_broker(api_);
  RawSocket socket(harness.broker_port());
  std::string all;
  for (int i = 1; i <= kHeld; ++i) all += pull_frame(i);
  socket.send_bytes(all);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return held.size() == static_cast<size_t>(kHeld); }));
  }
  std::thread completer([&] {  // last held first: replies follow completion order
    std::lock_guard lock(mu);
    for (int i = kHeld - 1; i >= 0; --i) {
      PullResponse response;
      response.status = Status(Code::kPullNotFound, "none");
      held[static_cast<size_t>(i)](std::move(response));
    }
  });
  completer.join();
  for (int i = kHeld; i >= 1; --i) expect_reply(socket, "pull", i);
  socket.send_bytes(topic_list_frame(kHeld + 1));
  expect_reply(socket, "getTopicList", kHeld + 1);
}

}  // namespace
}  // namespace mq::transport_thrift::testing
