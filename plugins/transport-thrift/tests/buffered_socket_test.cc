// BudgetResetSocket's read buffer: frames that arrive together are read with one recv and
// come out whole and in order, reads cross the buffer's boundary, large reads bypass it,
// a read that times out leaves nothing stale, reads stay within a small message-size budget,
// and a closed peer ends reads as on a bare TSocket. Coalesced writes wait in memory until
// the socket must receive, 64 KiB are pending or flush_writes(); close() drops them.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/TConfiguration.h>
#include <thrift/transport/TTransportException.h>

#include "mq/wire/budget_reset_transport.h"
#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::transport::TTransportException;
using wire::BudgetResetSocket;

class BufferedSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    socket_ = std::make_shared<BudgetResetSocket>(fds_[0], std::make_shared<TConfiguration>());
  }
  void TearDown() override {
    socket_->close();
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void write_all(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fds_[1], bytes.data() + done, bytes.size() - done);
      ASSERT_GT(n, 0);
      done += static_cast<size_t>(n);
    }
  }
  std::string read_exactly(size_t n) {
    std::string out(n, '\0');
    socket_->readAll(reinterpret_cast<uint8_t*>(out.data()), static_cast<uint32_t>(n));
    return out;
  }
  // What the peer end can read without waiting.
  std::string peer_reads_now() {
    std::string got;
    char chunk[4096];
    pollfd p{fds_[1], POLLIN, 0};
    while (::poll(&p, 1, 0) == 1) {
      ssize_t n = ::read(fds_[1], chunk, sizeof chunk);
      if (n <= 0) break;
      got.append(chunk, static_cast<size_t>(n));
    }
    return got;
  }
  // Blocks until the peer end has read n bytes (empty on a closed socket or error).
  std::string peer_reads(size_t n) {
    std::string got;
    char chunk[65536];
    while (got.size() < n) {
      ssize_t r = ::read(fds_[1], chunk, std::min(sizeof chunk, n - got.size()));
      if (r <= 0) return std::string();
      got.append(chunk, static_cast<size_t>(r));
    }
    return got;
  }
  void write_frame(const std::string& bytes) {  // as TFramedTransport::flush does
    socket_->write(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<uint32_t>(bytes.size()));
    socket_->flush();
  }

  int fds_[2] = {-1, -1};
  std::shared_ptr<BudgetResetSocket> socket_;
};

TEST_F(BufferedSocket, BytesThatArrivedTogetherAreReadWithOneRecvInOrder) {
  const std::string a = byte_pattern(4, 'a'), b = byte_pattern(300, 'b'), c = byte_pattern(5000, 'c');
  write_all(a + b + c);
  EXPECT_EQ(read_exactly(a.size()), a);
  // The first read took everything that had arrived: the rest comes from the buffer.
  EXPECT_EQ(socket_->buffered(), b.size() + c.size());
  EXPECT_TRUE(socket_->peek());
  EXPECT_EQ(read_exactly(b.size()), b);
  EXPECT_EQ(read_exactly(c.size()), c);
  EXPECT_EQ(socket_->buffered(), 0u);
}

TEST_F(BufferedSocket, ReadsCrossTheBufferBoundaryAndLargeReadsBypassIt) {
  const size_t big = 3 * BudgetResetSocket::kReadBufferBytes + 123;
  const std::string first = byte_pattern(10, 'x'), second = byte_pattern(big, 'y'), third = byte_pattern(77, 'z');
  std::thread writer([&] { write_all(first + second + third); });
  EXPECT_EQ(read_exactly(first.size()), first);
  EXPECT_EQ(read_exactly(second.size()), second);  // part buffered, the rest straight from the socket
  EXPECT_EQ(read_exactly(third.size()), third);
  writer.join();
}

TEST_F(BufferedSocket, ClosedPeerEndsReads) {
  write_all("tail");
  ::close(fds_[1]);
  fds_[1] = -1;
  EXPECT_EQ(read_exactly(2), "ta");
  EXPECT_THROW(read_exactly(3), TTransportException);  // "il" then end of stream
  uint8_t byte = 0;
  EXPECT_EQ(socket_->read(&byte, 1), 0u);
}

TEST_F(BufferedSocket, ATimedOutReadLeavesNothingBehindForTheNextRead) {
  socket_->setRecvTimeout(50);
  write_all("abcd");
  EXPECT_EQ(read_exactly(4), "abcd");
  uint8_t byte = 0;
  EXPECT_THROW(socket_->read(&byte, 1), TTransportException);  // nothing arrives: timeout
  EXPECT_EQ(socket_->buffered(), 0u);
  write_all("X");
  EXPECT_EQ(read_exactly(1), "X");  // not the consumed "a" again
}

TEST_F(BufferedSocket, WritesGoOutAtOnceUnlessCoalesced) {
  write_frame("plain");
  EXPECT_EQ(peer_reads_now(), "plain");
  EXPECT_EQ(socket_->pending_writes(), 0u);
}

TEST_F(BufferedSocket, CoalescedWritesLeaveTogetherWhenTheSocketMustReceive) {
  socket_->set_write_coalescing(true);
  const std::string a = byte_pattern(100, 'a'), b = byte_pattern(2000, 'b'), c = byte_pattern(7, 'c');
  write_frame(a);
  write_frame(b);
  write_frame(c);
  EXPECT_EQ(peer_reads_now(), "");  // held
  EXPECT_EQ(socket_->pending_writes(), a.size() + b.size() + c.size());
  // A read the buffer cannot serve sends everything first (else the peer could not answer).
  std::thread peer([&] {
    EXPECT_EQ(peer_reads(a.size() + b.size() + c.size()), a + b + c);
    write_all("reply1reply2");
  });
  EXPECT_EQ(read_exactly(6), "reply1");
  peer.join();
  EXPECT_EQ(socket_->pending_writes(), 0u);
  // A read served from the buffer sends nothing: the next request stays held.
  write_frame("next");
  EXPECT_EQ(read_exactly(6), "reply2");
  EXPECT_EQ(socket_->pending_writes(), 4u);
  EXPECT_EQ(peer_reads_now(), "");
  socket_->flush_writes();
  EXPECT_EQ(peer_reads_now(), "next");
}

TEST_F(BufferedSocket, CoalescedWritesGoOutOnceSixtyFourKiBWait) {
  socket_->set_write_coalescing(true);
  const std::string small = byte_pattern(1000, 's');
  size_t held = 0;
  while (held + small.size() < BudgetResetSocket::kWriteCoalesceBytes) {
    write_frame(small);
    held += small.size();
  }
  EXPECT_EQ(socket_->pending_writes(), held);
  std::string got;
  std::thread peer([&] { got = peer_reads(held + small.size()); });
  write_frame(small);  // reaches the threshold: everything goes out
  peer.join();
  EXPECT_EQ(socket_->pending_writes(), 0u);
  std::string expected;
  for (size_t i = 0; i <= held / small.size(); ++i) expected += small;
  EXPECT_EQ(got, expected);
  // A frame of the threshold's size or more is sent from the caller's buffer at once.
  const std::string big = byte_pattern(BudgetResetSocket::kWriteCoalesceBytes + 10, 'B');
  got.clear();
  std::thread big_peer([&] { got = peer_reads(big.size()); });
  socket_->write(reinterpret_cast<const uint8_t*>(big.data()), static_cast<uint32_t>(big.size()));
  EXPECT_EQ(socket_->pending_writes(), 0u);  // before any flush()
  big_peer.join();
  EXPECT_EQ(got, big);
}

TEST_F(BufferedSocket, TurningCoalescingOffSendsWhatWaitsAndCloseDropsIt) {
  socket_->set_write_coalescing(true);
  write_frame("first");
  socket_->set_write_coalescing(false);
  EXPECT_EQ(peer_reads_now(), "first");
  socket_->set_write_coalescing(true);
  write_frame("dropped");
  socket_->close();
  EXPECT_EQ(socket_->pending_writes(), 0u);
  EXPECT_EQ(peer_reads_now(), "");  // the peer sees end of stream, not the held bytes
  const uint8_t byte = 1;
  EXPECT_THROW(socket_->write(&byte, 1), TTransportException);  // closed: refused at once
}

TEST(BufferedSocketBudget, BufferedReadsStayWithinASmallMessageSizeBudget) {
  // TSocket::read refuses requests above the budget left (1 KiB here): the buffer must not
  // ask for its full 64 KiB.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto socket = std::make_shared<BudgetResetSocket>(fds[0], std::make_shared<TConfiguration>(1024));
  std::string sent(3000, '\0');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 13);
  ASSERT_EQ(::write(fds[1], sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  std::string got;
  for (int i = 0; i < 30; ++i) {
    uint8_t chunk[100];
    ASSERT_NO_THROW(socket->readAll(chunk, sizeof chunk)) << "read " << i;
    got.append(reinterpret_cast<const char*>(chunk), sizeof chunk);
  }
  EXPECT_EQ(got, sent);
  socket->close();
  ::close(fds[1]);
}

}  // namespace
}  // namespace mq::transport_thrift::testing
