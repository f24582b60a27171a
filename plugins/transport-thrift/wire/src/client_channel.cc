// ClientChannel: TSocket + budget-resetting framed transport + binary protocol, shared by the
// generated broker and name-server clients.
#include "mq/wire/client_channel.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TTransportException.h>

#include "mq/wire/budget_reset_transport.h"

namespace mq::wire {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TTransportException;

std::unique_ptr<ClientChannel> ClientChannel::connect(const std::string& address, const ChannelOptions& options) {
  std::string host;
  int port = 0;
  if (!split_address(address, &host, &port)) {
    throw TTransportException(TTransportException::NOT_OPEN,
                              "malformed address '" + address + "'; expected host:port with port 1-65535");
  }
  // One frame is one message, so the per-message budget must admit the largest frame.
  int frame_limit = static_cast<int>(std::clamp<int64_t>(options.max_frame_bytes, 1, INT_MAX));
  auto config =
      std::make_shared<TConfiguration>(std::max(frame_limit, +TConfiguration::DEFAULT_MAX_MESSAGE_SIZE), frame_limit);
  auto socket = std::make_shared<BudgetResetSocket>(host, port, config);
  socket->setConnTimeout(options.connect_timeout_ms);
  socket->setRecvTimeout(options.recv_timeout_ms);
  socket->setSendTimeout(options.send_timeout_ms);
  socket->setNoDelay(true);
  socket->set_write_coalescing(options.coalesce_writes);
  auto framed = std::make_shared<BudgetResetFramedTransport>(socket, config);
  try {
    framed->open();
  } catch (const TTransportException& e) {
    throw TTransportException(e.getType(), "cannot connect to " + address + ": " + e.what());
  }
  auto protocol = std::make_shared<TBinaryProtocol>(framed);

  std::unique_ptr<ClientChannel> channel(new ClientChannel());
  channel->address_ = address;
  channel->socket_ = std::move(socket);
  channel->transport_ = std::move(framed);
  channel->broker_ = std::make_unique<BrokerServiceClient>(protocol);
  channel->name_server_ = std::make_unique<NameServerServiceClient>(protocol);
  return channel;
}

ClientChannel::~ClientChannel() {
  try {
    close();
  } catch (...) {
    // Closing a broken socket may throw; a destructor must not.
  }
}

bool ClientChannel::is_open() const {
  return transport_ && transport_->isOpen();
}

void ClientChannel::flush_writes() {
  if (socket_) socket_->flush_writes();
}

void ClientChannel::close() {
  // Close the socket directly: TFramedTransport::close() would first flush a half-written
  // request, which can block on a dead peer.
  if (socket_ && socket_->isOpen()) socket_->close();
}

bool split_address(const std::string& address, std::string* host, int* port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  std::string_view port_text(address.data() + colon + 1, address.size() - colon - 1);
  int value = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value < 1 || value > 65535) return false;
  *host = address.substr(0, colon);
  *port = value;
  return true;
}

}  // namespace mq::wire
