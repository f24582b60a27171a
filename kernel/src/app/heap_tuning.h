// Heap tuning for the broker process, applied by mqbroker's main before anything allocates.
#pragma once

namespace mq::kernel {

// Keeps freed heap memory for reuse instead of handing it back to the kernel. With glibc's
// defaults a pull reply or a batch request of a few hundred KiB is served by a fresh mmap (or
// the arena top is trimmed after it), so the next one faults in and zeroes new pages: that
// was a third of the broker's CPU in catch-up consumption, more on VMs that return freed
// memory to the host. Sets M_MMAP_THRESHOLD to 32 MiB and M_TRIM_THRESHOLD to 256 MiB per
// arena. Does nothing when GLIBC_TUNABLES is set (the operator tunes malloc). Returns whether
// it changed anything. Under jemalloc (MQ_JEMALLOC, the daemons' default) these glibc
// settings are inert: jemalloc keeps freed extents for reuse by itself (their dirty pages
// decay after 10 s by default).
bool keep_freed_heap_for_reuse();

}  // namespace mq::kernel
