// transport-thrift entry point: the descriptor and the Plugin lifecycle around ThriftTransport.
#include <memory>

#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/service_registry.h"
#include "thrift_transport.h"
#include "transport_options.h"

namespace mq::transport_thrift {
namespace {

class TransportPlugin final : public Plugin {
 public:
  Status configure(const boost::program_options::variables_map& options) override {
    auto parsed = parse_options(options);
    if (!parsed) return parsed.status();
    options_ = *parsed;
    return Status::ok();
  }

  Status init(ServiceRegistry& registry, HostContext& host) override {
    auto logger = host.logger(kPluginName);
    transport_ = std::make_shared<ThriftTransport>(options_, logger);
    logger->info(
        "transport-thrift: ioThreads={} maxFrameSize={} maxConnections={} maxInflightPerConnection={} "
        "maxPendingReplyBytes={} busyPollMicros={}",
        options_.io_threads, options_.max_frame_size, options_.max_connections, options_.max_inflight_per_connection,
        options_.max_pending_reply_bytes, options_.busy_poll_micros);
    return registry.provide<Transport>(transport_, kPluginName);
  }

  Status start() override {
    if (!transport_) return Status::system("transport-thrift: start() before init()");
    transport_->start();
    return Status::ok();
  }

  void stop() override {
    if (transport_) transport_->stop();
  }

 private:
  TransportOptions options_;
  std::shared_ptr<ThriftTransport> transport_;
};

const char* const kProvides[] = {"Transport", nullptr};
const char* const kRequires[] = {nullptr};

Plugin* create_plugin() {
  try {
    return new TransportPlugin();
  } catch (...) {
    return nullptr;
  }
}

void destroy_plugin(Plugin* plugin) noexcept {
  delete plugin;
}

const PluginDescriptor kDescriptor{
    kPluginApiVersion, MQ_BUILD_SIGNATURE, kPluginName,    "0.1.0",         kProvides,
    kRequires,         &declare_options,   &create_plugin, &destroy_plugin,
};

}  // namespace

const PluginDescriptor* transport_thrift_descriptor() {
  return &kDescriptor;
}

}  // namespace mq::transport_thrift

MQ_DECLARE_PLUGIN(mq::transport_thrift::transport_thrift_descriptor)
