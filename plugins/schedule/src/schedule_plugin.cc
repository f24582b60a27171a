// SchedulePlugin lifecycle (see the header).
#include "schedule_plugin.h"

#include "mq/host.h"
#include "mq/service_registry.h"

namespace mq::schedule {

Status SchedulePlugin::configure(const boost::program_options::variables_map& options) {
  auto parsed = parse_schedule_options(options);
  if (!parsed) return parsed.status();
  options_ = std::move(parsed).value();
  configured_ = true;
  return Status::ok();
}

Status SchedulePlugin::init(ServiceRegistry& registry, HostContext& host) {
  if (!configured_) {
    auto levels = parse_delay_levels(options_.message_delay_level);
    if (!levels) return levels.status();
    options_.level_delay_ms = std::move(levels).value();
  }
  auto pipeline = registry.find<PutPipeline>();
  auto context = registry.find<BrokerContext>();
  auto store = registry.find<MessageStore>();
  if (!pipeline || !context)
    return Status::system(
        "[schedule] the kernel services PutPipeline and BrokerContext are missing; "
        "the schedule plugin runs only inside mqbroker");
  if (!store) return Status::system("[schedule] no MessageStore; add storage-mmap to plugins=");
  options_.is_slave = host.identity().broker_id != 0;
  std::string root = options_.store_root.empty() ? host.identity().store_root : options_.store_root;
  if (root.empty())
    return Status::invalid("[schedule] storePathRootDir is not set; add storePathRootDir=<dir> to the config");
  scheduler_ = std::make_shared<Scheduler>(options_, root, store, context, host.logger(kPluginName), clock_, pipeline);
  if (Status st = registry.provide<ScheduleService>(scheduler_, kPluginName); !st) return st;
  pipeline->add_before_store(
      std::make_shared<ScheduleHook>(options_.level_delay_ms, options_.timer_max_delay_ms, clock_));
  return Status::ok();
}

Status SchedulePlugin::start() {
  if (!scheduler_) return Status::system("[schedule] start() before init()");
  return scheduler_->start();
}

void SchedulePlugin::stop() {
  if (scheduler_) scheduler_->stop();
}

}  // namespace mq::schedule
