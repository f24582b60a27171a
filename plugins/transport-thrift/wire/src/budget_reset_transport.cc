// BudgetResetSocket: the read buffer in front of TSocket::read and the optional write
// coalescing in front of TSocket::write. BudgetResetFramedTransport: large writes sent from
// the caller's memory.
#include "mq/wire/budget_reset_transport.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <thrift/transport/TTransportException.h>

namespace mq::wire {

using apache::thrift::transport::TTransportException;

uint32_t BudgetResetSocket::read(uint8_t* buf, uint32_t len) {
  if (read_pos_ == read_end_) {
    flush_writes();  // about to wait for bytes: what the peer should answer must be out first
    if (len >= kReadBufferBytes) return TSocket::read(buf, len);
    if (!read_buf_) read_buf_ = std::make_unique<uint8_t[]>(kReadBufferBytes);
    // TSocket::read refuses a request larger than the message-size budget left: ask for no
    // more than that (but at least `len`, which a bare TSocket would have been asked for).
    const long budget = std::max<long>(getRemainingMessageSize(), len);
    const auto want = static_cast<uint32_t>(std::min<long>(kReadBufferBytes, budget));
    read_pos_ = read_end_ = 0;                         // empty even when the read throws (timeout, interrupt)
    read_end_ = TSocket::read(read_buf_.get(), want);  // 0: the peer closed
  }
  const uint32_t n = std::min(len, read_end_ - read_pos_);
  std::memcpy(buf, read_buf_.get() + read_pos_, n);
  read_pos_ += n;
  return n;
}

bool BudgetResetSocket::peek() {
  if (read_pos_ < read_end_) return true;
  flush_writes();
  return TSocket::peek();
}

void BudgetResetSocket::close() {
  read_pos_ = read_end_ = 0;  // bytes of the old connection never reach a reopened one
  write_buf_.clear();
  TSocket::close();
}

void BudgetResetSocket::write(const uint8_t* buf, uint32_t len) {
  if (!coalesce_writes_) return TSocket::write(buf, len);
  if (!isOpen()) throw TTransportException(TTransportException::NOT_OPEN, "write() on a closed socket");
  if (write_buf_.size() + len < kWriteCoalesceBytes) {
    write_buf_.append(reinterpret_cast<const char*>(buf), len);
    return;
  }
  // Enough to send now: what waits goes first, then these bytes straight from the caller's
  // buffer (a large frame is not copied once more).
  flush_writes();
  TSocket::write(buf, len);
}

void BudgetResetSocket::set_write_coalescing(bool on) {
  if (!on) flush_writes();
  coalesce_writes_ = on;
}

void BudgetResetSocket::flush_writes() {
  if (write_buf_.empty()) return;
  // Taken out first: after a failed write the connection is unusable, and a retry must not
  // send these bytes twice.
  std::string out;
  out.swap(write_buf_);
  TSocket::write(reinterpret_cast<const uint8_t*>(out.data()), static_cast<uint32_t>(out.size()));
  out.clear();
  write_buf_.swap(out);  // keep the grown buffer
}

void BudgetResetSocket::write_pieces(std::vector<iovec>& pieces) {
  if (!isOpen()) throw TTransportException(TTransportException::NOT_OPEN, "write() on a closed socket");
  size_t total = 0;
  for (const iovec& p : pieces) total += p.iov_len;
  if (coalesce_writes_ && write_buf_.size() + total < kWriteCoalesceBytes) {
    for (const iovec& p : pieces) write_buf_.append(static_cast<const char*>(p.iov_base), p.iov_len);
    return;
  }
  flush_writes();
  // As TSocket::write: a send timeout (SO_SNDTIMEO) shows as EAGAIN.
  size_t first = 0;
  while (first < pieces.size()) {
    msghdr msg{};
    msg.msg_iov = pieces.data() + first;
    msg.msg_iovlen = std::min<size_t>(pieces.size() - first, IOV_MAX);
    const ssize_t sent = ::sendmsg(socket_, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK)
        throw TTransportException(TTransportException::TIMED_OUT, "send timeout expired");
      if (error == EPIPE || error == ECONNRESET || error == ENOTCONN)
        throw TTransportException(TTransportException::NOT_OPEN, "write() sendmsg()", error);
      throw TTransportException(TTransportException::UNKNOWN, "write() sendmsg()", error);
    }
    if (sent == 0) throw TTransportException(TTransportException::NOT_OPEN, "Socket send returned 0.");
    for (size_t left = static_cast<size_t>(sent); left > 0;) {  // past what was sent
      iovec& p = pieces[first];
      const size_t n = std::min(left, p.iov_len);
      p.iov_base = static_cast<char*>(p.iov_base) + n;
      p.iov_len -= n;
      left -= n;
      if (p.iov_len == 0) ++first;
    }
    while (first < pieces.size() && pieces[first].iov_len == 0) ++first;
  }
}

void BudgetResetFramedTransport::write_virt(const uint8_t* buf, uint32_t len) {
  if (len < kWriteByReferenceBytes) return TFramedTransport::write(buf, len);  // copied (TBufferBase)
  references_.push_back({static_cast<uint32_t>(wBase_ - wBuf_.get()), buf, len});
  referenced_bytes_ += len;
}

uint32_t BudgetResetFramedTransport::writeEnd() {
  return static_cast<uint32_t>(wBase_ - wBuf_.get() + referenced_bytes_);
}

void BudgetResetFramedTransport::flush() {
  if (references_.empty()) return TFramedTransport::flush();
  resetConsumedMessageSize();
  uint8_t* const frame = wBuf_.get();
  const auto end = static_cast<uint32_t>(wBase_ - frame);  // copied bytes, the length's 4 included
  const uint64_t size = end - sizeof(uint32_t) + referenced_bytes_;
  pieces_.clear();
  uint32_t from = 0;
  for (const Reference& r : references_) {
    if (r.at > from) pieces_.push_back({frame + from, r.at - from});
    pieces_.push_back({const_cast<uint8_t*>(r.bytes), r.len});
    from = r.at;
  }
  if (end > from) pieces_.push_back({frame + from, end - from});
  // Emptied before the write, as TFramedTransport::flush does: a write that throws leaves no
  // half-sent frame (nor a reference) behind for the next one.
  wBase_ = frame + sizeof(uint32_t);
  references_.clear();
  referenced_bytes_ = 0;
  if (size > INT32_MAX) {
    throw TTransportException(TTransportException::BAD_ARGS, "Attempted to write over 2 GB to TFramedTransport.");
  }
  const uint32_t size_be = htonl(static_cast<uint32_t>(size));
  std::memcpy(frame, &size_be, sizeof size_be);
  socket_->write_pieces(pieces_);
  socket_->flush();
}

}  // namespace mq::wire
