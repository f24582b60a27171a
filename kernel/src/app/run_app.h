// run_app: the whole main() of mqbroker and mqnamesrv: start the app, print --help text if
// that was asked for, else serve until SIGINT/SIGTERM and shut down gracefully.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "app/termination_signals.h"
#include "mq/status.h"

namespace mq::kernel {

// App: constructible from the arguments, with start() -> Status, help_text() and stop().
template <typename App>
int run_app(const char* program, int argc, char** argv) {
  block_termination_signals();
  App app(std::vector<std::string>(argv + 1, argv + argc));
  if (Status s = app.start(); !s) {
    std::fprintf(stderr, "%s: %s\n", program, s.message().c_str());
    return 1;
  }
  if (!app.help_text().empty()) {
    std::fputs(app.help_text().c_str(), stdout);
    return 0;
  }
  wait_for_termination_signal();
  app.stop();
  return 0;
}

}  // namespace mq::kernel
