// mqbroker: parse the config, load the plugins, serve until SIGINT/SIGTERM, shut down.
#include "app/broker_app.h"
#include "app/heap_tuning.h"
#include "app/run_app.h"

int main(int argc, char** argv) {
  mq::kernel::keep_freed_heap_for_reuse();
  return mq::kernel::run_app<mq::kernel::BrokerApp>("mqbroker", argc, argv);
}
