// transaction entry point: the plugin descriptor of transaction.so.
#include "mq/plugin.h"
#include "mq/plugin_entry.h"
#include "transaction_options.h"
#include "transaction_plugin.h"

namespace mq::transaction {
namespace {

const char* const kProvides[] = {"TransactionService", nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

}  // namespace
}  // namespace mq::transaction

MQ_DEFINE_PLUGIN(mq::transaction::TransactionPlugin, mq::transaction::kPluginName, "0.1.0", mq::transaction::kProvides,
                 mq::transaction::kRequires, &mq::transaction::declare_transaction_options)
