// transaction entry point: the plugin descriptor of transaction.so.
#include "mq/plugin.h"
#include "transaction_options.h"
#include "transaction_plugin.h"

namespace mq::transaction {
namespace {

const char* const kProvides[] = {"TransactionService", nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

Plugin* create_plugin() {
  try {
    return new TransactionPlugin();
  } catch (...) {
    return nullptr;
  }
}

void destroy_plugin(Plugin* p) noexcept {
  delete p;
}

const PluginDescriptor kDescriptor{
    kPluginApiVersion, MQ_BUILD_SIGNATURE,           kPluginName,    "0.1.0",         kProvides,
    kRequires,         &declare_transaction_options, &create_plugin, &destroy_plugin,
};

}  // namespace
}  // namespace mq::transaction

namespace {
const mq::PluginDescriptor* transaction_descriptor() {
  return &mq::transaction::kDescriptor;
}
}  // namespace

MQ_DECLARE_PLUGIN(transaction_descriptor)
