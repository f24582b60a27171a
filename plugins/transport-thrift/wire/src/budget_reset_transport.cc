// BudgetResetSocket: the read buffer in front of TSocket::read and the optional write
// coalescing in front of TSocket::write.
#include "mq/wire/budget_reset_transport.h"

#include <algorithm>
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

}  // namespace mq::wire
