// CRC-32C: known vectors and crc32c_combine against a direct computation.
#include "crc32c.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mq::storage_mmap {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST(Crc32cTest, ExtendAndCombineMatchDirect) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::string data(1 + rng() % 5000, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    size_t split = rng() % data.size();
    uint32_t whole = crc32c(data.data(), data.size());
    uint32_t a = crc32c(data.data(), split);
    uint32_t b = crc32c(data.data() + split, data.size() - split);
    EXPECT_EQ(crc32c_extend(a, data.data() + split, data.size() - split), whole);
    EXPECT_EQ(crc32c_combine(a, b, data.size() - split), whole);
  }
}

}  // namespace
}  // namespace mq::storage_mmap

namespace mq::storage_mmap {
namespace {

TEST(Crc32cTest, DispatchedImplementationMatchesPortableAtEveryLengthAndAlignment) {
  std::string data(600, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  for (size_t off = 0; off < 9; ++off) {
    for (size_t len = 0; len + off <= data.size(); len += 13) {
      ASSERT_EQ(crc32c_extend(0x1234u, data.data() + off, len), crc32c_portable(0x1234u, data.data() + off, len))
          << off << "/" << len;
    }
  }
  // The precomputed operator gives the same combine.
  uint32_t a = crc32c(data.data(), 100);
  uint32_t b = crc32c(data.data() + 100, 500);
  EXPECT_EQ(crc32c_combine_op(a, b, crc32c_shift_operator(500)), crc32c(data.data(), 600));
}

TEST(Crc32cTest, FoldingAndStreamsMatchPortableAtEveryLengthUpTo2KiB) {
  // Every length crosses the folding path's 64-, 256- and 16-byte steps and its tail; the
  // stream path is checked on its own too (crc32c_extend prefers folding where available).
  std::mt19937 rng(11);
  std::string data(2200 + 64, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (size_t off : {0, 1, 3, 8, 13}) {
    for (size_t len = 0; len <= 2200; ++len) {
      const uint32_t want = crc32c_portable(0x9E3779B9u, data.data() + off, len);
      ASSERT_EQ(crc32c_extend(0x9E3779B9u, data.data() + off, len), want) << off << "/" << len;
      ASSERT_EQ(crc32c_streams(0x9E3779B9u, data.data() + off, len), want) << off << "/" << len;
    }
  }
  if (!crc32c_folding_available()) GTEST_SKIP() << "this CPU has no VPCLMULQDQ: only the stream path was checked";
}

TEST(Crc32cTest, CopyWritesTheSourceAndReturnsItsCrcAtEveryLengthUpTo2KiB) {
  // Source and destination misaligned differently; the byte after the copy stays untouched.
  std::mt19937 rng(5);
  std::string src(2200 + 64, '\0');
  for (auto& c : src) c = static_cast<char>(rng());
  for (size_t off : {0, 5}) {
    for (size_t len = 0; len <= 2200; ++len) {
      std::string dst(len + 16, '\x5A');
      const uint32_t got = crc32c_copy(0x9E3779B9u, dst.data() + 3, src.data() + off, len);
      ASSERT_EQ(got, crc32c_portable(0x9E3779B9u, src.data() + off, len)) << off << "/" << len;
      ASSERT_EQ(dst.compare(3, len, src, off, len), 0) << off << "/" << len;
      ASSERT_EQ(dst[3 + len], '\x5A') << off << "/" << len;
      ASSERT_EQ(dst[2], '\x5A') << off << "/" << len;
    }
  }
}

TEST(Crc32cTest, Avx2FoldAndItsCopyMatchPortableAtEveryLengthUpTo2KiB) {
  // The 256-bit fold is what CPUs without AVX-512 use; checked here even where crc32c_extend
  // picks the 512-bit one. Every length crosses its 128-, 32- and 16-byte steps and its tail.
  if (!crc32c_fold_avx2_available()) GTEST_SKIP() << "this CPU has no AVX2 VPCLMULQDQ";
  std::mt19937 rng(17);
  std::string src(2200 + 64, '\0');
  for (auto& c : src) c = static_cast<char>(rng());
  for (size_t off : {0, 1, 7, 32}) {
    for (size_t len = 0; len <= 2200; ++len) {
      const uint32_t want = crc32c_portable(0x9E3779B9u, src.data() + off, len);
      ASSERT_EQ(crc32c_fold_avx2_for_testing(0x9E3779B9u, nullptr, src.data() + off, len), want) << off << "/" << len;
      std::string dst(len + 16, '\x5A');
      ASSERT_EQ(crc32c_fold_avx2_for_testing(0x9E3779B9u, dst.data() + 3, src.data() + off, len), want)
          << off << "/" << len;
      ASSERT_EQ(dst.compare(3, len, src, off, len), 0) << off << "/" << len;
      ASSERT_EQ(dst[3 + len], '\x5A') << off << "/" << len;
      ASSERT_EQ(dst[2], '\x5A') << off << "/" << len;
    }
  }
}

TEST(Crc32cTest, ShiftOperatorIsRightPastTwoToThe29Bytes) {
  // x has order 2^31 - 1 modulo the Castagnoli polynomial, so shifting by 2^29 bytes
  // (x^(2^32)) is multiplying by x^2, and by 2^29 + 5 bytes the same as by 5 bytes then x^2.
  // (A table of x^(2^k) indexed with k & 31 instead of k % 31 got both wrong.)
  const uint32_t x2 = 1u << 29;  // x^2, reflected
  EXPECT_EQ(crc32c_shift_operator_uncached(size_t{1} << 29), x2);
  const uint32_t a = crc32c("records", 7);
  const uint32_t by5 = crc32c_combine_op_portable(a, 0, crc32c_shift_operator_uncached(5));
  EXPECT_EQ(crc32c_combine_op_portable(a, 0, crc32c_shift_operator_uncached((size_t{1} << 29) + 5)),
            crc32c_combine_op_portable(by5, 0, x2));
}

TEST(Crc32cTest, InterleavedStreamsMatchPortableAcrossBlockBoundaries) {
  // Lengths around the 3 x 128 and 3 x 1024 chunk sizes of the 3-stream hardware path, at
  // odd alignments, and a large buffer that runs through many long chunks.
  std::mt19937 rng(7);
  std::string data(3 * 1024 * 5 + 3 * 128 * 3 + 100, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  std::vector<size_t> lens = {383,
                              384,
                              385,
                              767,
                              768,
                              769,
                              3071,
                              3072,
                              3073,
                              3072 + 384,
                              3072 + 383,
                              4096,
                              4187,
                              6144 + 768 + 7,
                              data.size() - 9};
  for (size_t off : {0, 1, 5, 8}) {
    for (size_t len : lens) {
      const uint32_t want = crc32c_portable(0xDEADBEEFu, data.data() + off, len);
      ASSERT_EQ(crc32c_extend(0xDEADBEEFu, data.data() + off, len), want) << off << "/" << len;
      ASSERT_EQ(crc32c_streams(0xDEADBEEFu, data.data() + off, len), want) << off << "/" << len;
    }
  }
}

TEST(Crc32cTest, FastCombineMatchesPortableMultiply) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    uint32_t a = rng(), b = rng();
    uint32_t op = crc32c_shift_operator_uncached(1 + rng() % 100000);
    ASSERT_EQ(crc32c_combine_op(a, b, op), crc32c_combine_op_portable(a, b, op)) << i;
  }
  // Edge operands.
  for (uint32_t a : {0u, 1u, 0x80000000u, 0xFFFFFFFFu})
    for (uint32_t op : {0x80000000u, 1u, 0xFFFFFFFFu})
      EXPECT_EQ(crc32c_combine_op(a, 0, op), crc32c_combine_op_portable(a, 0, op));
}

}  // namespace
}  // namespace mq::storage_mmap
