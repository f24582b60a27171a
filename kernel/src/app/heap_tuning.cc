// Heap tuning for the broker process (see heap_tuning.h).
#include "app/heap_tuning.h"

#include <malloc.h>

#include <cstdlib>

namespace mq::kernel {

bool keep_freed_heap_for_reuse() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return false;
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest dynamic threshold on 64-bit
  constexpr int kTrimThreshold = 256 << 20;
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

}  // namespace mq::kernel
