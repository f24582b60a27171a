// BudgetResetFramedTransport's writes by reference: a frame holding large writes goes out
// byte for byte as Thrift's own TFramedTransport frames it (a whole generated call
// included), in order with frames before and after it, through partial sends, coalesced
// with earlier frames when small enough; a send that times out throws and leaves the next
// frame clean.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TTransportException.h>

#include "BrokerService.h"
#include "mq/wire/budget_reset_transport.h"
#include "test_support.h"

namespace mq::transport_thrift::testing {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TMemoryBuffer;
using apache::thrift::transport::TTransportException;
using wire::BudgetResetFramedTransport;
using wire::BudgetResetSocket;

constexpr uint32_t kLarge = BudgetResetFramedTransport::kWriteByReferenceBytes;

class FramedWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    timeval wait{5, 0};  // a frame shorter than expected fails the test instead of hanging it
    ASSERT_EQ(::setsockopt(fds_[1], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait), 0);
    auto config = std::make_shared<TConfiguration>();
    socket_ = std::make_shared<BudgetResetSocket>(fds_[0], config);
    framed_ = std::make_shared<BudgetResetFramedTransport>(socket_, config);
  }
  void TearDown() override {
    socket_->close();
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  // Reads n bytes at the peer end on a thread while `write` runs (frames larger than the
  // socket's buffer need a reader).
  template <typename Write>
  std::string peer_reads_while(size_t n, Write write) {
    std::string got;
    std::thread reader([&] {
      char chunk[65536];
      while (got.size() < n) {
        ssize_t r = ::read(fds_[1], chunk, std::min(sizeof chunk, n - got.size()));
        if (r <= 0) return;
        got.append(chunk, static_cast<size_t>(r));
      }
    });
    write();
    reader.join();
    return got;
  }
  // The frame Thrift's own framed transport makes of the same writes.
  static std::string stock_frame(const std::vector<std::string>& writes) {
    auto memory = std::make_shared<TMemoryBuffer>();
    TFramedTransport stock(memory);
    for (const std::string& w : writes) stock.write(reinterpret_cast<const uint8_t*>(w.data()), w.size());
    stock.flush();
    return memory->getBufferAsString();
  }
  // Through TTransport, as Thrift's protocols write (TBufferBase::write, which the derived
  // class's own name would find, always copies).
  void write(const std::string& bytes) {
    apache::thrift::transport::TTransport& transport = *framed_;
    transport.write(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<uint32_t>(bytes.size()));
  }
  void write_frame(const std::vector<std::string>& writes) {
    for (const std::string& w : writes) write(w);
    framed_->flush();
  }

  int fds_[2] = {-1, -1};
  std::shared_ptr<BudgetResetSocket> socket_;
  std::shared_ptr<BudgetResetFramedTransport> framed_;
};

TEST_F(FramedWrite, LargeWritesGoOutAsTheStockFrameInOrder) {
  const std::vector<std::string> small_only{"small frame before"};
  const std::vector<std::string> mixed{byte_pattern(10, 'a'),     byte_pattern(kLarge, 'b'),
                                       byte_pattern(3, 'c'),      byte_pattern(kLarge * 6 + 5, 'd'),
                                       byte_pattern(kLarge, 'e'), byte_pattern(7, 'f')};
  const std::vector<std::string> large_last{byte_pattern(2, 'g'), byte_pattern(kLarge + 1, 'h')};
  const std::vector<std::string> small_after{"small frame after"};
  const std::string expected =
      stock_frame(small_only) + stock_frame(mixed) + stock_frame(large_last) + stock_frame(small_after);

  uint32_t mixed_end = 0;
  const std::string got = peer_reads_while(expected.size(), [&] {
    write_frame(small_only);
    for (const std::string& w : mixed) write(w);
    mixed_end = framed_->writeEnd();
    framed_->flush();
    write_frame(large_last);
    write_frame(small_after);
  });
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "the frames differ from TFramedTransport's";
  EXPECT_EQ(mixed_end, stock_frame(mixed).size());  // the length prefix counted, as TFramedTransport does
}

TEST_F(FramedWrite, AGeneratedCallWithALargeBinaryIsTheStockCall) {
  wire::SendRequest request;
  request.producerGroup = "g";
  request.topic = "T";
  request.queueId = 3;
  request.encodedMessages = byte_pattern(kLarge * 5 + 17, 'x');
  request.__isset.encodedMessages = true;
  auto memory = std::make_shared<TMemoryBuffer>();
  wire::BrokerServiceClient stock(std::make_shared<TBinaryProtocol>(std::make_shared<TFramedTransport>(memory)));
  stock.send_send(request);
  const std::string expected = memory->getBufferAsString();

  wire::BrokerServiceClient ours(std::make_shared<TBinaryProtocol>(framed_));
  const std::string got = peer_reads_while(expected.size(), [&] { ours.send_send(request); });
  EXPECT_TRUE(got == expected) << "the call differs from the stock client's (" << got.size() << " against "
                               << expected.size() << " bytes)";
}

TEST_F(FramedWrite, ASmallFrameWithAReferenceIsCoalescedUntilFlushed) {
  socket_->set_write_coalescing(true);
  const std::vector<std::string> first{"first"};
  const std::vector<std::string> second{byte_pattern(4, 'p'), byte_pattern(kLarge, 'q'), byte_pattern(4, 'r')};
  write_frame(first);
  write_frame(second);
  const std::string expected = stock_frame(first) + stock_frame(second);
  EXPECT_EQ(socket_->pending_writes(), expected.size());  // held: copied, the caller's buffer may go
  const std::string got = peer_reads_while(expected.size(), [&] { socket_->flush_writes(); });
  EXPECT_TRUE(got == expected);
}

TEST_F(FramedWrite, ALargeFrameSendsWhatWasHeldFirst) {
  socket_->set_write_coalescing(true);
  const std::vector<std::string> held{"held"};
  const std::vector<std::string> large{byte_pattern(1, 's'), byte_pattern(BudgetResetSocket::kWriteCoalesceBytes, 't')};
  write_frame(held);
  const std::string expected = stock_frame(held) + stock_frame(large);
  const std::string got = peer_reads_while(expected.size(), [&] { write_frame(large); });
  EXPECT_EQ(socket_->pending_writes(), 0u);
  EXPECT_TRUE(got == expected);
}

TEST_F(FramedWrite, ASendTimeoutThrowsAndTheNextFrameStartsClean) {
  socket_->setSendTimeout(100);
  const std::string large = byte_pattern(8 << 20, 'u');  // more than the socket pair buffers
  const std::vector<std::string> frame{"head", large};
  try {
    write_frame(frame);
    FAIL() << "an 8 MiB frame to a peer that reads nothing was sent";
  } catch (const TTransportException& e) {
    EXPECT_EQ(e.getType(), TTransportException::TIMED_OUT) << e.what();
  }
  // Nothing of the failed frame is left to go out with the next one.
  EXPECT_EQ(framed_->writeEnd(), sizeof(uint32_t));
}

}  // namespace
}  // namespace mq::transport_thrift::testing
