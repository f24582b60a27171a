// TransactionPlugin: the Plugin object of the transaction plugin. In init() it finds the
// kernel's PutPipeline and BrokerContext and the MessageStore, provides TransactionService
// and adds the half-message hook; start() loads the state and starts the check thread.
#pragma once

#include <memory>

#include "mq/plugin.h"
#include "mq/put_pipeline.h"
#include "transaction_options.h"
#include "transaction_store.h"

namespace mq::transaction {

// PREPARED sends become half messages (to_half); COMMIT / ROLLBACK-typed sends are refused.
class HalfMessageHook final : public BeforeStoreHook {
 public:
  Status before_store(StoredMessage& msg) override { return to_half(msg); }
};

class TransactionPlugin final : public Plugin {
 public:
  Status configure(const boost::program_options::variables_map& options) override;
  Status init(ServiceRegistry& registry, HostContext& host) override;
  Status start() override;
  void stop() override;

  const TransactionOptions& options() const { return options_; }
  TransactionStore* store() { return service_.get(); }  // nullptr before init()

 private:
  TransactionOptions options_;
  std::shared_ptr<TransactionStore> service_;
};

}  // namespace mq::transaction
