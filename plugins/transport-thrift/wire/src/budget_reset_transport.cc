// BudgetResetSocket: the read buffer in front of TSocket::read.
#include "mq/wire/budget_reset_transport.h"

#include <algorithm>
#include <cstring>

namespace mq::wire {

uint32_t BudgetResetSocket::read(uint8_t* buf, uint32_t len) {
  if (read_pos_ == read_end_) {
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
  return read_pos_ < read_end_ || TSocket::peek();
}

void BudgetResetSocket::close() {
  read_pos_ = read_end_ = 0;  // bytes of the old connection never reach a reopened one
  TSocket::close();
}

}  // namespace mq::wire
