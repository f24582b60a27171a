// ha-sync entry point: the plugin descriptor and the Plugin object that wires the master
// or slave side of replication into the put pipeline and the service registry.
#include <memory>

#include "ha_master.h"
#include "ha_options.h"
#include "ha_slave.h"
#include "mq/broker_context.h"
#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/plugin_entry.h"
#include "mq/put_pipeline.h"
#include "mq/replication_service.h"
#include "mq/service_registry.h"

namespace mq::ha {
namespace {

// Master: the after-store hook forwards to HaMaster (SYNC_MASTER waits, transfer wake-ups).
class MasterHook final : public AfterStoreHook {
 public:
  explicit MasterHook(std::shared_ptr<HaMaster> master) : master_(std::move(master)) {}
  void after_store(const StoredRange& stored, std::function<void(Status)> done) override {
    master_->after_store(stored, std::move(done));
  }

 private:
  std::shared_ptr<HaMaster> master_;
};

class Replication final : public ReplicationService {
 public:
  Replication(Role role, std::shared_ptr<HaMaster> master, std::shared_ptr<HaSlave> slave)
      : role_(role), master_(std::move(master)), slave_(std::move(slave)) {}
  std::string role() const override { return role_name(role_); }
  std::map<std::string, std::string> runtime_info() const override {
    return master_ ? master_->runtime_info() : slave_->runtime_info();
  }

 private:
  Role role_;
  std::shared_ptr<HaMaster> master_;
  std::shared_ptr<HaSlave> slave_;
};

class HaSyncPlugin final : public Plugin {
 public:
  Status configure(const boost::program_options::variables_map& options) override {
    auto parsed = parse_ha_options(options);
    if (!parsed) return parsed.status();
    options_ = std::move(parsed).value();
    return Status::ok();
  }

  Status init(ServiceRegistry& registry, HostContext& host) override {
    const BrokerIdentity& id = host.identity();
    if (Status st = check_role_matches_broker_id(options_, id.broker_id); !st) return st;
    if (id.store_root.empty())
      return Status::invalid("[ha-sync] storePathRootDir is not set; add storePathRootDir=<dir> to the config");
    HaDeps deps{options_, id, registry.find<MessageStore>(), registry.find<BrokerContext>(), host.logger(kPluginName)};
    auto pipeline = registry.find<PutPipeline>();
    if (!deps.store) return Status::invalid("[ha-sync] no MessageStore: add storage-mmap to plugins=");
    if (!pipeline || !deps.context)
      return Status::invalid("[ha-sync] needs the broker kernel's PutPipeline and BrokerContext (run it in mqbroker)");
    if (options_.role == Role::kSlave) {
      slave_ = std::make_shared<HaSlave>(std::move(deps));
      pipeline->add_before_store(std::make_shared<SlaveRefusesSends>(id.broker_name));
    } else {
      master_ = std::make_shared<HaMaster>(std::move(deps));
      pipeline->add_after_store(std::make_shared<MasterHook>(master_));
    }
    return registry.provide<ReplicationService>(std::make_shared<Replication>(options_.role, master_, slave_),
                                                kPluginName);
  }

  Status start() override {
    if (master_) return master_->start();
    if (slave_) return slave_->start();
    return Status::system("[ha-sync] start() before init()");
  }

  void stop() override {
    if (master_) master_->stop();
    if (slave_) slave_->stop();
  }

 private:
  HaOptions options_;
  std::shared_ptr<HaMaster> master_;
  std::shared_ptr<HaSlave> slave_;
};

const char* const kProvides[] = {"Replication", nullptr};
const char* const kRequires[] = {"MessageStore", nullptr};

}  // namespace
}  // namespace mq::ha

MQ_DEFINE_PLUGIN(mq::ha::HaSyncPlugin, mq::ha::kPluginName, "0.1.0", mq::ha::kProvides, mq::ha::kRequires,
                 &mq::ha::declare_ha_options)
