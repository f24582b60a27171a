// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): carry-less-multiply folding with
// VPCLMULQDQ where the CPU has it (on AVX-512 registers, else on AVX2 ones), else SSE4.2
// crc32q in three interleaved streams (else slice-by-8 tables); a copy that checksums what
// it copies; crc32c_combine so an encoded record's bulk can be checksummed before its
// offsets are known.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mq::storage_mmap {

// Standard CRC-32C with pre/post inversion; crc32c("123456789") == 0xE3069283.
// `crc` is the value returned for the preceding bytes (0 to start).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t len) noexcept;
inline uint32_t crc32c(const void* data, size_t len) noexcept {
  return crc32c_extend(0, data, len);
}

// crc32c of the 8 bytes at `first8` followed by `rest_len` bytes at `rest` (a record: its
// first 8 bytes, then everything after its CRC field), without a call for the 8 bytes.
uint32_t crc32c_8_then(const void* first8, const void* rest, size_t rest_len) noexcept;
// Copies `len` bytes from `src` to `dst` (not overlapping) and returns
// crc32c_extend(crc, dst, len), in one pass over the bytes when crc32c_extend folds.
uint32_t crc32c_copy(uint32_t crc, void* dst, const void* src, size_t len) noexcept;

// crc32c(A || B) from crc32c(A), crc32c(B) and len(B), as zlib's crc32_combine.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) noexcept;
// The combine split in two: the operator for len_b (x^(8 len_b) mod P, O(log len_b)) can be
// computed ahead, outside a lock; applying it is one 32-step GF(2) multiply.
uint32_t crc32c_shift_operator(size_t len_b) noexcept;  // cached per thread
uint32_t crc32c_shift_operator_uncached(size_t len_b) noexcept;
// (PCLMULQDQ + crc32 reduction when the CPU has them, else a 32-step GF(2) multiply.)
uint32_t crc32c_combine_op(uint32_t crc_a, uint32_t crc_b, uint32_t shift_op) noexcept;
uint32_t crc32c_combine_op_portable(uint32_t crc_a, uint32_t crc_b, uint32_t shift_op) noexcept;
// The table-driven implementation (crc32c_extend uses SSE4.2 when the CPU has it).
uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len) noexcept;
// The three-stream SSE4.2 implementation (tables without SSE4.2), whatever the CPU has
// beyond it (tests: crc32c_extend prefers folding when available).
uint32_t crc32c_streams(uint32_t crc, const void* data, size_t len) noexcept;
// True when crc32c_extend folds with VPCLMULQDQ (AVX-512 or AVX2) for buffers of 64 bytes and more.
bool crc32c_folding_available() noexcept;
// Tests: the AVX2 fold whatever else the CPU has (crc32c_extend prefers AVX-512), as a plain
// CRC (`copy_to` null) or a copy to `copy_to`; the portable path where the CPU lacks it.
bool crc32c_fold_avx2_available() noexcept;
uint32_t crc32c_fold_avx2_for_testing(uint32_t crc, void* copy_to, const void* data, size_t len) noexcept;

}  // namespace mq::storage_mmap
