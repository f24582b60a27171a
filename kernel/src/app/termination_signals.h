// SIGINT/SIGTERM handling for the daemons: block them in every thread, wait in main.
#pragma once

namespace mq::kernel {

// Call first in main, before any thread exists (threads inherit the mask). Also ignores
// SIGPIPE so a closed peer never kills the process.
void block_termination_signals();
// Blocks the calling thread until SIGINT or SIGTERM; returns the signal number.
int wait_for_termination_signal();

}  // namespace mq::kernel
