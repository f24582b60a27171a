// Thrift transports that reset 0.17's per-transport message-size budget at every message
// boundary, so long-lived connections survive more than ~100 MB received; the framed one
// also sends large writes from the caller's memory instead of copying them.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

namespace mq::wire {

// Why: TFramedTransport decrements its budget (TTransport::remainingMessageSize_) on every
// borrow/consume, i.e. for every string/binary field read, and readEnd() never restores it.
// In 0.17 only flush() resets it, so a framed object that is read many times without being
// flushed (a separate input transport as TTransportFactory builds for TThreadedServer, a
// one-way stream reader) fails with "MaxMessageSize reached" after ~100 MB received in total
// (tests: MessageBudget.*, GigabyteThroughOneConnection.Stock*). The classes below reset the
// budget on themselves and on the socket below whenever a frame starts and a message ends,
// so correctness never depends on writing between reads.

// A TSocket whose message-size budget can be reset from outside (the reset is protected in
// TTransport). TSocket 0.17 only checks the budget, but resetting it keeps us safe if a later
// Thrift starts counting socket bytes.
//
// Reads are buffered: TFramedTransport reads each frame as its 4-byte length and then its
// payload, two recv calls on a bare TSocket; here one recv takes whatever has arrived (up to
// kReadBufferBytes), so a small reply costs one system call and pipelined replies that
// arrived together share it (as hiredis and the NATS client read). Reads of at least
// kReadBufferBytes with an empty buffer go straight to the socket.
//
// Writes may be coalesced (set_write_coalescing, off by default), as hiredis pipelines: a
// flushed frame then stays in memory until the socket must receive (a read the buffer cannot
// serve), kWriteCoalesceBytes would be pending (then the held bytes go out and the new ones
// follow from the caller's buffer), or flush_writes() is called, so calls pipelined
// ahead of their replies leave in one write and reach the server together. Only for callers
// that read a reply for what they send or call flush_writes(); close() drops pending bytes.
// Not thread-safe (like TSocket).
class BudgetResetSocket final : public apache::thrift::transport::TSocket {
 public:
  using TSocket::TSocket;
  static constexpr uint32_t kReadBufferBytes = 64 * 1024;
  static constexpr uint32_t kWriteCoalesceBytes = 64 * 1024;

  void reset_message_budget() { resetConsumedMessageSize(); }

  // TSocket::read is virtual and every Thrift read path ends in it: TTransport::read_virt
  // and readAll_virt reach it through TVirtualTransport<TSocket>, whose readAll loops over it.
  uint32_t read(uint8_t* buf, uint32_t len) override;
  bool peek() override;
  void close() override;
  // TSocket::write is virtual and TFramedTransport::flush writes each frame through it (then
  // calls flush(), TTransport's no-op: held bytes wait for a read or flush_writes()).
  void write(const uint8_t* buf, uint32_t len) override;

  void set_write_coalescing(bool on);
  // Writes every pending byte now (a no-op when nothing is pending). Throws as TSocket::write.
  void flush_writes();
  // As write() of the pieces' bytes one after another, in one sendmsg where the pieces are
  // not held for coalescing. `pieces` is used up (advanced past what was sent).
  void write_pieces(std::vector<iovec>& pieces);
  // Bytes received and not read yet (tests).
  uint32_t buffered() const { return read_end_ - read_pos_; }
  // Bytes written and not sent yet (tests).
  size_t pending_writes() const { return write_buf_.size(); }

 private:
  std::unique_ptr<uint8_t[]> read_buf_;  // allocated by the first read
  uint32_t read_pos_ = 0;
  uint32_t read_end_ = 0;
  bool coalesce_writes_ = false;
  std::string write_buf_;  // coalesced bytes not sent yet
};

// Framed transport over a BudgetResetSocket. Invariant: the budget of both layers is full
// whenever a new frame (= one message) starts being read. Not thread-safe (like TFramedTransport).
//
// Writes of at least kWriteByReferenceBytes (a batch's encoded messages, a large body) are not
// copied into the frame buffer: the frame notes where they go, and flush() sends the copied
// bytes and the caller's with one sendmsg. So a referenced buffer must stay alive and
// unchanged until the flush() that ends its message; Thrift's generated clients write a call
// and flush it within one send_X(), while the caller's arguments are alive.
class BudgetResetFramedTransport final : public apache::thrift::transport::TFramedTransport {
 public:
  static constexpr uint32_t kWriteByReferenceBytes = 16 * 1024;

  BudgetResetFramedTransport(std::shared_ptr<BudgetResetSocket> socket,
                             std::shared_ptr<apache::thrift::TConfiguration> config)
      : TFramedTransport(socket, std::move(config)), socket_(std::move(socket)) {}

  uint32_t readEnd() override {
    uint32_t bytes = TFramedTransport::readEnd();
    reset_message_budget();
    return bytes;
  }
  // Thrift's protocols write through TTransport::write, i.e. here. (write() called on this
  // type itself is TBufferBase's, which always copies.)
  void write_virt(const uint8_t* buf, uint32_t len) override;
  uint32_t writeEnd() override;
  void flush() override;

 protected:
  bool readFrame() override {
    reset_message_budget();
    return TFramedTransport::readFrame();
  }

 private:
  struct Reference {
    uint32_t at;  // offset in the frame buffer (its 4-byte length included) the bytes go before
    const uint8_t* bytes;
    uint32_t len;
  };
  void reset_message_budget() {
    resetConsumedMessageSize();
    socket_->reset_message_budget();
  }

  std::shared_ptr<BudgetResetSocket> socket_;
  std::vector<Reference> references_;  // of the frame being written, in order
  uint64_t referenced_bytes_ = 0;
  std::vector<iovec> pieces_;  // reused by flush()
};

}  // namespace mq::wire
