// FramedSocket (see framed_socket.h).
#include "framed_socket.h"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace mq::ha {

namespace asio = boost::asio;

FramedSocket::FramedSocket(asio::ip::tcp::socket socket, uint32_t max_frame)
    : socket_(std::move(socket)), max_frame_(max_frame) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

void FramedSocket::start(OnFrame on_frame, OnClosed on_closed) {
  on_frame_ = std::move(on_frame);
  on_closed_ = std::move(on_closed);
  read_header();
}

void FramedSocket::read_header() {
  if (closed_) return;
  asio::async_read(socket_, asio::buffer(header_, kHeaderBytes),
                   [self = shared_from_this()](boost::system::error_code ec, size_t) {
                     if (ec) return self->close(ec == asio::error::eof ? "peer closed the connection" : ec.message());
                     auto h = parse_header(self->header_, self->max_frame_);
                     if (!h) return self->close(h.status().message());
                     self->read_payload(h->type, h->payload);
                   });
}

void FramedSocket::read_payload(FrameType type, uint32_t n) {
  payload_.resize(n);
  asio::async_read(socket_, asio::buffer(payload_.data(), n),
                   [self = shared_from_this(), type](boost::system::error_code ec, size_t) {
                     if (ec) return self->close(ec == asio::error::eof ? "peer closed the connection" : ec.message());
                     self->last_read_ = Clock::now();
                     if (self->closed_) return;
                     self->on_frame_(type, self->payload_);
                     self->read_header();
                   });
}

void FramedSocket::send(std::vector<std::string> pieces) {
  if (closed_ || !close_after_flush_.empty()) return;
  out_.push_back(std::move(pieces));
  if (!writing_) write_next();
}

void FramedSocket::write_next() {
  if (closed_) return;
  if (out_.empty()) {
    if (!close_after_flush_.empty()) close(close_after_flush_);
    return;
  }
  writing_ = true;
  std::vector<asio::const_buffer> bufs;
  for (const auto& p : out_.front()) bufs.push_back(asio::buffer(p));
  asio::async_write(socket_, bufs, [self = shared_from_this()](boost::system::error_code ec, size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) return self->close(ec.message());
    self->last_write_ = Clock::now();
    self->out_.pop_front();
    self->write_next();
    if (self->on_written_ && !self->closed_) self->on_written_();
  });
}

void FramedSocket::close_after_flush(const std::string& why) {
  if (closed_) return;
  close_after_flush_ = why.empty() ? "closed" : why;
  if (!writing_) write_next();
}

void FramedSocket::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // The callbacks may own the connection's owner (a cycle): drop them once the handler
  // that is running now (maybe on_frame_ itself) has returned.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->on_frame_ = nullptr;
    self->on_written_ = nullptr;
    self->out_.clear();
  });
  if (on_closed_) {
    auto cb = std::move(on_closed_);
    on_closed_ = nullptr;
    cb(why);
  }
}

}  // namespace mq::ha
