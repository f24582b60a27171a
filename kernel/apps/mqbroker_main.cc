// mqbroker: parse the config, load the plugins, serve until SIGINT/SIGTERM, shut down.
#include <cstdio>
#include <string>
#include <vector>

#include "app/broker_app.h"
#include "app/termination_signals.h"

int main(int argc, char** argv) {
  mq::kernel::block_termination_signals();
  mq::kernel::BrokerApp app(std::vector<std::string>(argv + 1, argv + argc));
  if (mq::Status s = app.start(); !s) {
    std::fprintf(stderr, "mqbroker: %s\n", s.message().c_str());
    return 1;
  }
  if (!app.help_text().empty()) {
    std::fputs(app.help_text().c_str(), stdout);
    return 0;
  }
  mq::kernel::wait_for_termination_signal();
  app.stop();
  return 0;
}
