// keep_freed_heap_for_reuse: after it, a freed buffer of a few MiB stays in the heap (no
// mmap per allocation), and GLIBC_TUNABLES leaves malloc to the operator.
#include "app/heap_tuning.h"

#include <malloc.h>
#include <stdlib.h>

#include <cstring>

#include <gtest/gtest.h>

namespace mq::test {
namespace {

TEST(HeapTuningTest, LargeBuffersComeFromTheHeapAfterTuning) {
  ::unsetenv("GLIBC_TUNABLES");
  ASSERT_TRUE(kernel::keep_freed_heap_for_reuse());
  const size_t mapped_before = mallinfo2().hblks;
  void* p = std::malloc(4 << 20);  // above glibc's default 128 KiB threshold
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, 4 << 20);
  EXPECT_EQ(mallinfo2().hblks, mapped_before) << "a 4 MiB buffer was served by its own mmap";
  std::free(p);
}

TEST(HeapTuningTest, GlibcTunablesLeaveMallocAlone) {
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1048576", 1);
  EXPECT_FALSE(kernel::keep_freed_heap_for_reuse());
  ::unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace mq::test
