// AuditPlugin: configure -> init (find the MessageStore and the kernel's PutPipeline, open
// the file, add the after-store hook) -> start (writer thread) -> stop (drain, join).
#include "audit_plugin.h"

#include <memory>

#include "audit_options.h"
#include "audit_writer.h"
#include "mq/host.h"
#include "mq/message_store.h"
#include "mq/put_pipeline.h"
#include "mq/service_registry.h"

namespace audit {
namespace {

class AuditPlugin final : public mq::Plugin {
 public:
  mq::Status configure(const boost::program_options::variables_map& vm) override {
    auto parsed = parse_audit_options(vm);
    if (!parsed) return parsed.status();
    options_ = std::move(parsed).value();
    return mq::Status::ok();
  }

  mq::Status init(mq::ServiceRegistry& registry, mq::HostContext& host) override {
    auto store = registry.find<mq::MessageStore>();    // listed in requires_: present
    auto pipeline = registry.find<mq::PutPipeline>();  // provided by the kernel of mqbroker
    if (!store || !pipeline)
      return mq::Status::system("[audit] needs the MessageStore and the broker's PutPipeline; load it in mqbroker");
    log_ = host.logger(MQ_PLUGIN_NAME);
    writer_ = std::make_shared<AuditWriter>(std::move(store), options_, log_);
    if (mq::Status s = writer_->open(); !s) return s;
    pipeline->add_after_store(std::make_shared<AuditHook>(writer_));
    return mq::Status::ok();
  }

  mq::Status start() override {
    writer_->start();
    log_->info("auditing {} to {}", options_.topics.empty() ? std::string("every topic") : "selected topics",
               options_.file);
    return mq::Status::ok();
  }

  // The hook stays in the kernel's pipeline until the kernel drops it; after stop() it only
  // counts puts as dropped. The store reference goes now (its provider stops after us).
  void stop() override {
    if (writer_) writer_->stop();
  }

 private:
  AuditOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<AuditWriter> writer_;
};

const char* const kProvides[] = {nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

mq::Plugin* create_plugin() {
  try {
    return new AuditPlugin();
  } catch (...) {
    return nullptr;
  }
}

void destroy_plugin(mq::Plugin* p) noexcept {
  delete p;
}

const mq::PluginDescriptor kDescriptor{
    mq::kPluginApiVersion,  MQ_BUILD_SIGNATURE, MQ_PLUGIN_NAME,  "1.0.0", kProvides, kRequires,
    &declare_audit_options, &create_plugin,     &destroy_plugin,
};

}  // namespace

const mq::PluginDescriptor& audit_descriptor() {
  return kDescriptor;
}

}  // namespace audit
