// A do-nothing broker: the same IDL, framed transport and binary protocol as ours, served by
// Thrift's TThreadedServer (a thread per connection), answering every call with an empty
// success. Measures the transport ceiling. Usage: mq_null_server PORT
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include "BrokerService.h"

namespace mq::bench {
namespace {

using apache::thrift::TConfiguration;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TTransport;

// Thrift 0.17 never restores a framed transport's message-size budget on the server side;
// reset it at every frame so one connection can carry more than ~100 MB.
class ResettingFramed final : public TFramedTransport {
 public:
  ResettingFramed(std::shared_ptr<TTransport> inner, std::shared_ptr<TConfiguration> config)
      : TFramedTransport(std::move(inner), std::move(config)) {}
  uint32_t readEnd() override {
    uint32_t n = TFramedTransport::readEnd();
    resetConsumedMessageSize();
    return n;
  }

 protected:
  bool readFrame() override {
    resetConsumedMessageSize();
    return TFramedTransport::readFrame();
  }
};

class ResettingFramedFactory final : public apache::thrift::transport::TTransportFactory {
 public:
  std::shared_ptr<TTransport> getTransport(std::shared_ptr<TTransport> trans) override {
    auto config = std::make_shared<TConfiguration>(1 << 30, 256 << 20);
    return std::make_shared<ResettingFramed>(std::move(trans), config);
  }
};

// Every method of the service answers with a default (code 0, empty) response.
class NullHandler final : public wire::BrokerServiceNull {};

}  // namespace
}  // namespace mq::bench

int main(int argc, char** argv) {
  if (argc != 2 || std::atoi(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: %s PORT (the do-nothing Thrift broker listens on 127.0.0.1:PORT)\n", argv[0]);
    return 2;
  }
  auto processor = std::make_shared<mq::wire::BrokerServiceProcessor>(std::make_shared<mq::bench::NullHandler>());
  auto socket = std::make_shared<apache::thrift::transport::TServerSocket>("127.0.0.1", std::atoi(argv[1]));
  apache::thrift::server::TThreadedServer server(processor, socket,
                                                 std::make_shared<mq::bench::ResettingFramedFactory>(),
                                                 std::make_shared<apache::thrift::protocol::TBinaryProtocolFactory>());
  server.serve();
  return 0;
}
