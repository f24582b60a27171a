// FramedSocket: one TCP connection speaking ha-sync frames (wire.h). Reads frames one at
// a time into a callback; queues outgoing frames and writes them in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "wire.h"

namespace mq::ha {

// Threading: every method runs on the socket's io_context thread (one thread). Callbacks
// run there too. Lifetime: shared_ptr; pending operations keep it alive.
class FramedSocket : public std::enable_shared_from_this<FramedSocket> {
 public:
  using Clock = std::chrono::steady_clock;
  // Called for each whole frame; the payload view is valid during the call only.
  using OnFrame = std::function<void(FrameType, std::string_view payload)>;
  // Called once when the connection ends (peer closed, I/O error, bad frame, close()).
  using OnClosed = std::function<void(const std::string& why)>;

  FramedSocket(boost::asio::ip::tcp::socket socket, uint32_t max_frame);

  void start(OnFrame on_frame, OnClosed on_closed);
  // Called after each frame is written (e.g. to queue the next transfer chunk).
  void set_on_written(std::function<void()> on_written) { on_written_ = std::move(on_written); }
  // Queues a frame made of `pieces` (written back to back).
  void send(std::vector<std::string> pieces);
  void send(std::string frame) { send(std::vector<std::string>{std::move(frame)}); }
  // Closes once everything queued is written (a refusal's reason reaches the peer).
  void close_after_flush(const std::string& why);
  void close(const std::string& why);

  bool closed() const { return closed_; }
  size_t queued() const { return out_.size(); }
  Clock::time_point last_read() const { return last_read_; }
  Clock::time_point last_write() const { return last_write_; }
  const std::string& peer() const { return peer_; }

 private:
  void read_header();
  void read_payload(FrameType type, uint32_t n);
  void write_next();

  boost::asio::ip::tcp::socket socket_;
  uint32_t max_frame_;
  std::string peer_;
  OnFrame on_frame_;
  OnClosed on_closed_;
  std::function<void()> on_written_;
  char header_[kHeaderBytes] = {};
  std::string payload_;
  std::deque<std::vector<std::string>> out_;
  bool writing_ = false;
  bool closed_ = false;
  std::string close_after_flush_;  // non-empty: close when out_ drains
  Clock::time_point last_read_ = Clock::now();
  Clock::time_point last_write_ = Clock::now();
};

}  // namespace mq::ha
