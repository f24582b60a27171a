// SchedulePlugin: the Plugin object of the schedule plugin (configure -> init -> start ->
// stop). Public so the unit tests can build one with an injected clock.
#pragma once

#include <memory>

#include "mq/plugin.h"
#include "scheduler.h"

namespace mq::schedule {

class SchedulePlugin final : public Plugin {
 public:
  explicit SchedulePlugin(Clock clock = system_clock_ms()) : clock_(std::move(clock)) {}
  ~SchedulePlugin() override { stop(); }

  Status configure(const boost::program_options::variables_map& options) override;
  // Finds PutPipeline and BrokerContext (provider "kernel") and MessageStore; provides
  // ScheduleService; adds the before-store hook.
  Status init(ServiceRegistry& registry, HostContext& host) override;
  Status start() override;
  void stop() override;

  Scheduler* scheduler() { return scheduler_.get(); }

 private:
  Clock clock_;
  ScheduleOptions options_;
  bool configured_ = false;
  std::shared_ptr<Scheduler> scheduler_;
};

}  // namespace mq::schedule
