// mqnamesrv: load transport-thrift, serve the route registry until SIGINT/SIGTERM.
#include <cstdio>
#include <string>
#include <vector>

#include "app/namesrv_app.h"
#include "app/termination_signals.h"

int main(int argc, char** argv) {
  mq::kernel::block_termination_signals();
  mq::kernel::NamesrvApp app(std::vector<std::string>(argv + 1, argv + argc));
  if (mq::Status s = app.start(); !s) {
    std::fprintf(stderr, "mqnamesrv: %s\n", s.message().c_str());
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
