// sigwait on a blocked {SIGINT, SIGTERM} set: no async-signal-safety concerns.
#include "app/termination_signals.h"

#include <pthread.h>
#include <signal.h>

namespace mq::kernel {
namespace {

sigset_t termination_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_termination_signals() {
  // A shell starting us in the background may have set SIGINT to SIG_IGN, which would
  // discard it before sigwait could see it.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t set = termination_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int wait_for_termination_signal() {
  sigset_t set = termination_set();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace mq::kernel
