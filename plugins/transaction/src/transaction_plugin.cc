// TransactionPlugin implementation.
#include "transaction_plugin.h"

#include "mq/broker_context.h"
#include "mq/host.h"
#include "mq/message_store.h"
#include "mq/service_registry.h"

namespace mq::transaction {

Status TransactionPlugin::configure(const boost::program_options::variables_map& options) {
  auto parsed = parse_transaction_options(options);
  if (!parsed) return parsed.status();
  options_ = *parsed;
  return Status::ok();
}

Status TransactionPlugin::init(ServiceRegistry& registry, HostContext& host) {
  auto pipeline = registry.find<PutPipeline>();
  auto context = registry.find<BrokerContext>();
  if (!pipeline || !context)
    return Status::system(
        "[transaction] the kernel services PutPipeline / BrokerContext are missing; the transaction "
        "plugin runs only inside mqbroker");
  auto store = registry.find<MessageStore>();
  if (!store)
    return Status::invalid("[transaction] no MessageStore service; add storage-mmap to plugins= before transaction");
  const std::string& root = host.identity().store_root;
  if (root.empty()) return Status::invalid("[transaction] storePathRootDir is not set; add storePathRootDir=<dir>");
  service_ = std::make_shared<TransactionStore>(
      options_, std::move(store), std::move(context), pipeline, host.identity().broker_address,
      root + "/config/transactionProgress.json", host.logger(kPluginName), host.identity().broker_id != 0);
  if (Status st = registry.provide<TransactionService>(service_, kPluginName); !st) return st;
  pipeline->add_before_store(std::make_shared<HalfMessageHook>());
  return Status::ok();
}

Status TransactionPlugin::start() {
  if (!service_) return Status::system("[transaction] start() before init()");
  return service_->start();
}

void TransactionPlugin::stop() {
  if (service_) service_->stop();
}

}  // namespace mq::transaction
