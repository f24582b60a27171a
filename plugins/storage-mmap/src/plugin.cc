// storage-mmap entry point: the plugin descriptor and the Plugin object that configures,
// registers, starts and stops the MmapStore.
#include <memory>

#include "mmap_store.h"
#include "mq/host.h"
#include "mq/plugin.h"
#include "mq/plugin_entry.h"
#include "mq/service_registry.h"
#include "store_options.h"

namespace mq::storage_mmap {
namespace {

class StorageMmapPlugin final : public Plugin {
 public:
  Status configure(const boost::program_options::variables_map& options) override {
    auto parsed = parse_store_options(options);
    if (!parsed) return parsed.status();
    options_ = std::move(parsed).value();
    return Status::ok();
  }

  Status init(ServiceRegistry& registry, HostContext& host) override {
    if (options_.store_root.empty()) options_.store_root = host.identity().store_root;
    if (options_.store_root.empty())
      return Status::invalid("[storage-mmap] storePathRootDir is not set; add storePathRootDir=<dir> to the config");
    store_ = std::make_shared<MmapStore>(options_, host.identity().broker_address, host.logger(kPluginName));
    return registry.provide<MessageStore>(store_, kPluginName);
  }

  Status start() override { return store_ ? store_->start() : Status::system("[storage-mmap] start() before init()"); }

  void stop() override {
    if (store_) store_->stop();
  }

 private:
  StoreOptions options_;
  std::shared_ptr<MmapStore> store_;
};

const char* const kProvides[] = {"MessageStore", nullptr};
const char* const kRequires[] = {nullptr};

}  // namespace
}  // namespace mq::storage_mmap

MQ_DEFINE_PLUGIN(mq::storage_mmap::StorageMmapPlugin, mq::storage_mmap::kPluginName, "0.1.0",
                 mq::storage_mmap::kProvides, mq::storage_mmap::kRequires, &mq::storage_mmap::declare_store_options)
