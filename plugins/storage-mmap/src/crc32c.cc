// CRC-32C: tables (built once, thread-safe static init), the SSE4.2 streams, the VPCLMULQDQ fold
// on 512- or 256-bit registers (also as a copy that checksums what it stores) and the GF(2)
// combine.
#include "crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mq::storage_mmap {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};

const Tables& tables() {
  static const Tables kTables;
  return kTables;
}

// a(x) * b(x) mod P(x), reflected bit order (zlib's multmodp).
uint32_t multmodp(uint32_t a, uint32_t b) noexcept {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = b & 1 ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(2^k) mod P(x) for k = 0..31. x has order 2^31 - 1 modulo P, so x^(2^31) = x: the
// powers repeat every 31 steps (index with k % 31, never k & 31).
struct PowerTable {
  uint32_t x2n[32];
  PowerTable() {
    uint32_t p = 1u << 30;  // x^1
    x2n[0] = p;
    for (int n = 1; n < 32; ++n) x2n[n] = p = multmodp(p, p);
  }
};

const PowerTable& powers() {
  static const PowerTable kPowers;
  return kPowers;
}

uint32_t crc32c_sw(uint32_t crc, const void* data, size_t len) noexcept;

#if defined(__x86_64__)
// Three independent crc32q streams hide the instruction's 3-cycle latency (one issue per
// cycle): a chunk of 3 blocks of kBlock bytes is checksummed as three streams, then the
// streams are joined by shifting the first two over the bytes after them (x^(8 n) mod P
// applied through 4 byte-indexed tables, Mark Adler's crc32c.c scheme) and XOR-ing.
// Two block sizes: kLongBlock for large buffers, kShortBlock for the rest of them.
constexpr size_t kLongBlock = 1024;
constexpr size_t kShortBlock = 128;

// shift(crc) = crc * x^(8 len) mod P, as four table look-ups (linear in crc).
struct ShiftTable {
  uint32_t t[4][256];
  explicit ShiftTable(size_t len) noexcept {
    const uint32_t op = crc32c_shift_operator_uncached(len);
    for (uint32_t k = 0; k < 4; ++k)
      for (uint32_t n = 0; n < 256; ++n) t[k][n] = multmodp(op, n << (8 * k));
  }
  uint32_t shift(uint32_t crc) const noexcept {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
  }
};

const ShiftTable& long_shift() {
  static const ShiftTable kTable(kLongBlock);
  return kTable;
}
const ShiftTable& short_shift() {
  static const ShiftTable kTable(kShortBlock);
  return kTable;
}

// Consumes as many 3 x `block` chunks as `len` holds; `c0` is the running (inverted) register.
template <size_t kBlock>
__attribute__((target("sse4.2"), always_inline)) inline void crc_3way(uint64_t& c0, const unsigned char*& p,
                                                                      size_t& len, const ShiftTable& table) {
  while (len >= 3 * kBlock) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    const unsigned char* end = p + kBlock;
    do {
      uint64_t v0, v1, v2;
      std::memcpy(&v0, p, 8);
      std::memcpy(&v1, p + kBlock, 8);
      std::memcpy(&v2, p + 2 * kBlock, 8);
      c0 = __builtin_ia32_crc32di(c0, v0);
      c1 = __builtin_ia32_crc32di(c1, v1);
      c2 = __builtin_ia32_crc32di(c2, v2);
      p += 8;
    } while (p < end);
    c0 = table.shift(static_cast<uint32_t>(c0)) ^ c1;
    c0 = table.shift(static_cast<uint32_t>(c0)) ^ c2;
    p += 2 * kBlock;
    len -= 3 * kBlock;
  }
}

// The running (inverted) register over the last bytes, 8 then 1 at a time; returns the CRC.
__attribute__((target("sse4.2"))) inline uint32_t crc_tail(uint64_t c, const unsigned char* p, size_t len) noexcept {
  while (len >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    len -= 8;
  }
  // The last 0-7 bytes as at most one 4-, one 2- and one 1-byte step.
  auto c32 = static_cast<uint32_t>(c);
  if (len & 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    c32 = __builtin_ia32_crc32si(c32, v);
    p += 4;
  }
  if (len & 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    c32 = __builtin_ia32_crc32hi(c32, v);
    p += 2;
  }
  if (len & 1) c32 = __builtin_ia32_crc32qi(c32, *p);
  return ~c32;
}

// SSE4.2 CRC32 instruction: the same polynomial, 8 bytes per step.
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const void* data, size_t len) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  if (len >= 3 * kShortBlock) {
    crc_3way<kLongBlock>(c, p, len, long_shift());
    crc_3way<kShortBlock>(c, p, len, short_shift());
  }
  return crc_tail(c, p, len);
}

// x^n mod P for any n, from the table of x^(2^k).
uint32_t x_pow(uint64_t n) noexcept {
  const auto& x2n = powers().x2n;
  uint32_t p = 1u << 31;  // x^0
  for (unsigned k = 0; n; n >>= 1, ++k)
    if (n & 1) p = multmodp(x2n[k % 31], p);
  return p;
}

// Folding with carry-less multiplies (VPCLMULQDQ on 512-bit registers: four 128-bit lanes
// per instruction). A 16-byte block loaded little-endian is the 128-bit reflected polynomial
// S = S_hi x^64 + S_lo (S_hi in the low qword). Moving S forward by d bits (S x^d) keeps
// the CRC when S is replaced by anything congruent mod P: a clmul of reflected 64-bit
// operands is x * A * B as a reflected 128-bit value, and a 32-bit constant c in a qword is
// c(x) x^32, so S_hi x^(d+64) = clmul(S_hi, x^(d+31) mod P) and
// S_lo x^d = clmul(S_lo, x^(d-33) mod P), both under 128 bits. Data is folded in four
// 64-byte accumulators, those are folded into one, its four lanes into one 128-bit value,
// which is congruent to every byte consumed: the crc32 instruction over its 16 bytes from
// a zero register, then over the tail, gives the CRC.
struct FoldConstants {
  uint64_t k2048[2], k1536[2], k1024[2], k768[2], k512[2], k384[2], k256[2], k128[2];
  FoldConstants() noexcept {
    auto set = [](uint64_t* k, uint64_t d) {
      k[0] = x_pow(d + 31);
      k[1] = x_pow(d - 33);
    };
    set(k2048, 2048);
    set(k1536, 1536);
    set(k1024, 1024);
    set(k768, 768);
    set(k512, 512);
    set(k384, 384);
    set(k256, 256);
    set(k128, 128);
  }
};

const FoldConstants& fold_constants() {
  static const FoldConstants kConstants;
  return kConstants;
}

constexpr size_t kFoldMin = 64;  // below that the crc32 streams are cheaper

__attribute__((target("avx512f,vpclmulqdq"))) inline __m512i fold512(__m512i acc, __m512i k, __m512i next) noexcept {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(acc, k, 0x00), _mm512_clmulepi64_epi128(acc, k, 0x11), next,
                                   0x96);  // a ^ b ^ c
}

__attribute__((target("avx512f"))) inline __m512i broadcast_k(const uint64_t* k) noexcept {
  const auto lo = static_cast<long long>(k[0]), hi = static_cast<long long>(k[1]);
  return _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
}

// The fold reads its input through a Blocks cursor: Read only loads; Copy also stores each
// loaded block to a destination, so a copy and its CRC take one pass (the clmul work then
// overlaps the stores' misses instead of following them).
struct Read {
  const unsigned char* p;
  __attribute__((target("avx512f"))) __m512i load512(size_t at) const noexcept { return _mm512_loadu_si512(p + at); }
  __attribute__((target("avx"))) __m256i load256(size_t at) const noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
  }
  __attribute__((target("sse2"))) __m128i load128() const noexcept {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  }
  void advance(size_t n) noexcept { p += n; }
  const unsigned char* tail(size_t) const noexcept { return p; }
};
struct Copy {
  const unsigned char* p;
  unsigned char* d;
  __attribute__((target("avx512f"))) __m512i load512(size_t at) const noexcept {
    const __m512i v = _mm512_loadu_si512(p + at);
    _mm512_storeu_si512(d + at, v);
    return v;
  }
  __attribute__((target("avx"))) __m256i load256(size_t at) const noexcept {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + at), v);
    return v;
  }
  __attribute__((target("sse2"))) __m128i load128() const noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), v);
    return v;
  }
  void advance(size_t n) noexcept {
    p += n;
    d += n;
  }
  const unsigned char* tail(size_t n) const noexcept {  // the last bytes, copied; CRC'd from d
    std::memcpy(d, p, n);
    return d;
  }
};

__attribute__((target("sse2"))) inline __m128i load_k(const uint64_t* k) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(k));
}

__attribute__((target("pclmul,sse4.2"))) inline __m128i fold128(__m128i acc, __m128i k, __m128i next) noexcept {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11)), next);
}

// The end shared by both fold widths: `x` is congruent to everything consumed before the
// `len` (< one vector) bytes left in `in`; folds their 16-byte blocks, reduces, adds the tail.
template <class Blocks>
__attribute__((target("pclmul,sse4.2"))) inline uint32_t finish(__m128i x, Blocks& in, size_t len) noexcept {
  const __m128i k1 = load_k(fold_constants().k128);
  while (len >= 16) {
    x = fold128(x, k1, in.load128());
    in.advance(16);
    len -= 16;
  }
  uint64_t c = __builtin_ia32_crc32di(0, static_cast<uint64_t>(_mm_cvtsi128_si64(x)));
  c = __builtin_ia32_crc32di(c, static_cast<uint64_t>(_mm_extract_epi64(x, 1)));
  return crc_tail(c, in.tail(len), len);  // under 16 bytes left
}

// Precondition: len >= kFoldMin.
template <class Blocks>
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) inline uint32_t fold(uint32_t crc, Blocks in,
                                                                                 size_t len) noexcept {
  const FoldConstants& k = fold_constants();
  // The running register enters as the first 32 bits of data.
  const __m512i init = _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(~crc)));
  __m512i z;
  if (len >= 256) {
    __m512i a0 = _mm512_xor_si512(in.load512(0), init), a1 = in.load512(64), a2 = in.load512(128), a3 = in.load512(192);
    in.advance(256);
    len -= 256;
    const __m512i k2048 = broadcast_k(k.k2048);
    while (len >= 256) {
      a0 = fold512(a0, k2048, in.load512(0));
      a1 = fold512(a1, k2048, in.load512(64));
      a2 = fold512(a2, k2048, in.load512(128));
      a3 = fold512(a3, k2048, in.load512(192));
      in.advance(256);
      len -= 256;
    }
    z = fold512(a0, broadcast_k(k.k1536), fold512(a1, broadcast_k(k.k1024), fold512(a2, broadcast_k(k.k512), a3)));
  } else {
    z = _mm512_xor_si512(in.load512(0), init);
    in.advance(64);
    len -= 64;
  }
  const __m512i k512 = broadcast_k(k.k512);
  while (len >= 64) {
    z = fold512(z, k512, in.load512(0));
    in.advance(64);
    len -= 64;
  }
  __m128i x = fold128(_mm512_maskz_extracti32x4_epi32(0xF, z, 0), load_k(k.k384),
                      fold128(_mm512_maskz_extracti32x4_epi32(0xF, z, 1), load_k(k.k256),
                              fold128(_mm512_maskz_extracti32x4_epi32(0xF, z, 2), load_k(k.k128),
                                      _mm512_maskz_extracti32x4_epi32(0xF, z, 3))));
  return finish(x, in, len);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) uint32_t crc32c_fold(uint32_t crc, const void* data,
                                                                                 size_t len) noexcept {
  if (len < kFoldMin) return crc32c_hw(crc, data, len);
  return fold(crc, Read{static_cast<const unsigned char*>(data)}, len);
}

// Precondition: len >= kFoldMin.
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2"))) uint32_t crc32c_fold_copy(uint32_t crc, void* dst,
                                                                                      const void* src,
                                                                                      size_t len) noexcept {
  return fold(crc, Copy{static_cast<const unsigned char*>(src), static_cast<unsigned char*>(dst)}, len);
}

// The same fold on 256-bit registers (two 128-bit lanes), for CPUs with VPCLMULQDQ but
// without AVX-512 (AMD Zen 3, Intel Alder Lake): four 32-byte accumulators.
__attribute__((target("avx2,vpclmulqdq"))) inline __m256i fold256(__m256i acc, __m256i k, __m256i next) noexcept {
  return _mm256_xor_si256(
      _mm256_xor_si256(_mm256_clmulepi64_epi128(acc, k, 0x00), _mm256_clmulepi64_epi128(acc, k, 0x11)), next);
}

__attribute__((target("avx"))) inline __m256i broadcast_k256(const uint64_t* k) noexcept {
  const auto lo = static_cast<long long>(k[0]), hi = static_cast<long long>(k[1]);
  return _mm256_set_epi64x(hi, lo, hi, lo);
}

// Precondition: len >= kFoldMin.
template <class Blocks>
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) inline uint32_t fold_avx2(uint32_t crc, Blocks in,
                                                                                   size_t len) noexcept {
  const FoldConstants& k = fold_constants();
  const __m256i init = _mm256_zextsi128_si256(_mm_cvtsi32_si128(static_cast<int>(~crc)));
  __m256i z;
  if (len >= 128) {
    __m256i a0 = _mm256_xor_si256(in.load256(0), init), a1 = in.load256(32), a2 = in.load256(64), a3 = in.load256(96);
    in.advance(128);
    len -= 128;
    const __m256i k1024 = broadcast_k256(k.k1024);
    while (len >= 128) {
      a0 = fold256(a0, k1024, in.load256(0));
      a1 = fold256(a1, k1024, in.load256(32));
      a2 = fold256(a2, k1024, in.load256(64));
      a3 = fold256(a3, k1024, in.load256(96));
      in.advance(128);
      len -= 128;
    }
    z = fold256(a0, broadcast_k256(k.k768),
                fold256(a1, broadcast_k256(k.k512), fold256(a2, broadcast_k256(k.k256), a3)));
  } else {
    z = _mm256_xor_si256(in.load256(0), init);
    in.advance(32);
    len -= 32;
  }
  const __m256i k256 = broadcast_k256(k.k256);
  while (len >= 32) {
    z = fold256(z, k256, in.load256(0));
    in.advance(32);
    len -= 32;
  }
  const __m128i x = fold128(_mm256_castsi256_si128(z), load_k(k.k128), _mm256_extracti128_si256(z, 1));
  return finish(x, in, len);
}

__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) uint32_t crc32c_fold_avx2(uint32_t crc, const void* data,
                                                                                   size_t len) noexcept {
  if (len < kFoldMin) return crc32c_hw(crc, data, len);
  return fold_avx2(crc, Read{static_cast<const unsigned char*>(data)}, len);
}

// Precondition: len >= kFoldMin.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) uint32_t crc32c_fold_avx2_copy(uint32_t crc, void* dst,
                                                                                        const void* src,
                                                                                        size_t len) noexcept {
  return fold_avx2(crc, Copy{static_cast<const unsigned char*>(src), static_cast<unsigned char*>(dst)}, len);
}

bool cpu_has_fold_avx2() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("vpclmulqdq");
}

bool cpu_has_fold() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("vpclmulqdq");
}

using CrcFn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;
CrcFn pick_crc() noexcept {
  __builtin_cpu_init();
  if (cpu_has_fold()) return &crc32c_fold;
  if (cpu_has_fold_avx2()) return &crc32c_fold_avx2;
  return __builtin_cpu_supports("sse4.2") ? &crc32c_hw : &crc32c_sw;
}

// The folding copy of the widest registers the CPU has (for len >= kFoldMin), or null.
using CopyFn = uint32_t (*)(uint32_t, void*, const void*, size_t) noexcept;
CopyFn pick_copy() noexcept {
  if (cpu_has_fold()) return &crc32c_fold_copy;
  if (cpu_has_fold_avx2()) return &crc32c_fold_avx2_copy;
  return nullptr;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t len) noexcept {
#if defined(__x86_64__)
  static const CrcFn kFn = pick_crc();
  return kFn(crc, data, len);
#else
  return crc32c_sw(crc, data, len);
#endif
}

#if defined(__x86_64__)
namespace {
__attribute__((target("sse4.2"))) inline uint32_t crc32c_8_hw(const void* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return ~static_cast<uint32_t>(__builtin_ia32_crc32di(0xFFFFFFFFu, v));
}
}  // namespace
#endif

uint32_t crc32c_8_then(const void* first8, const void* rest, size_t rest_len) noexcept {
#if defined(__x86_64__)
  static const CrcFn kFn = pick_crc();
  static const bool kHw = __builtin_cpu_supports("sse4.2");
  if (kHw) return kFn(crc32c_8_hw(first8), rest, rest_len);
#endif
  return crc32c_extend(crc32c_extend(0, first8, 8), rest, rest_len);
}

uint32_t crc32c_copy(uint32_t crc, void* dst, const void* src, size_t len) noexcept {
#if defined(__x86_64__)
  static const CopyFn kFoldCopy = pick_copy();
  if (kFoldCopy && len >= kFoldMin) return kFoldCopy(crc, dst, src, len);
#endif
  std::memcpy(dst, src, len);
  return crc32c_extend(crc, dst, len);
}

uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len) noexcept {
  return crc32c_sw(crc, data, len);
}

uint32_t crc32c_streams(uint32_t crc, const void* data, size_t len) noexcept {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) return crc32c_hw(crc, data, len);
#endif
  return crc32c_sw(crc, data, len);
}

bool crc32c_folding_available() noexcept {
#if defined(__x86_64__)
  return cpu_has_fold() || cpu_has_fold_avx2();
#else
  return false;
#endif
}

bool crc32c_fold_avx2_available() noexcept {
#if defined(__x86_64__)
  return cpu_has_fold_avx2();
#else
  return false;
#endif
}

uint32_t crc32c_fold_avx2_for_testing(uint32_t crc, void* copy_to, const void* data, size_t len) noexcept {
#if defined(__x86_64__)
  if (cpu_has_fold_avx2() && len >= kFoldMin) {
    return copy_to ? crc32c_fold_avx2_copy(crc, copy_to, data, len) : crc32c_fold_avx2(crc, data, len);
  }
#endif
  if (copy_to) std::memcpy(copy_to, data, len);
  return crc32c_portable(crc, data, len);
}

namespace {
uint32_t crc32c_sw(uint32_t crc, const void* data, size_t len) noexcept {
  const auto& t = tables().t;
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (len >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;  // little-endian host (x86-64 / aarch64 Linux)
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^
        t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
  return ~c;
}
}  // namespace

uint32_t crc32c_shift_operator(size_t len_b) noexcept {
  // Records repeat sizes: a small per-thread cache saves the O(log n) multiplies.
  struct Slot {
    size_t len = SIZE_MAX;
    uint32_t op = 0;
  };
  thread_local Slot cache[256];
  Slot& slot = cache[(len_b ^ (len_b >> 8)) & 255];
  if (slot.len == len_b) return slot.op;
  slot.len = len_b;
  slot.op = crc32c_shift_operator_uncached(len_b);
  return slot.op;
}

uint32_t crc32c_shift_operator_uncached(size_t len_b) noexcept {
  // x^(8 * len_b) mod P: multiply the powers x^(2^k) for the set bits of 8 * len_b.
  const auto& x2n = powers().x2n;
  uint32_t p = 1u << 31;  // x^0
  unsigned k = 3;         // 8 = 2^3
  while (len_b) {
    if (len_b & 1) p = multmodp(x2n[k % 31], p);
    len_b >>= 1;
    ++k;
  }
  return p;
}

namespace {

uint32_t combine_sw(uint32_t crc_a, uint32_t crc_b, uint32_t shift_op) noexcept {
  return multmodp(shift_op, crc_a) ^ crc_b;
}

#if defined(__x86_64__)
// x^-64 mod P. x has order 2^31 - 1 modulo the Castagnoli polynomial (x^(2^31 - 1) = 1; the
// crc32c tests check the combine against direct CRCs), so x^-64 = x^(2^31 - 1 - 64).
uint32_t x_pow_minus_64() noexcept {
  return x_pow((uint64_t{1} << 31) - 1 - 64);
}

// a * b mod P with a carry-less multiply: the reflected 63-bit product shifted left by one
// is a 64-bit reflected polynomial, and the crc32 instruction over it from 0 reduces it
// times x^32. Two rounds (the second by x^-64) give a * b * x^32 * x^-64 * x^32 = a * b.
__attribute__((target("sse4.2,pclmul"))) inline uint32_t mul_x32(uint32_t a, uint32_t b) noexcept {
  __m128i prod =
      _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(b)), 0);
  auto v = static_cast<uint64_t>(_mm_cvtsi128_si64(prod));
  return static_cast<uint32_t>(__builtin_ia32_crc32di(0, v << 1));
}

__attribute__((target("sse4.2,pclmul"))) uint32_t combine_hw(uint32_t crc_a, uint32_t crc_b,
                                                             uint32_t shift_op) noexcept {
  static const uint32_t kXm64 = x_pow_minus_64();
  return mul_x32(mul_x32(crc_a, shift_op), kXm64) ^ crc_b;
}

using CombineFn = uint32_t (*)(uint32_t, uint32_t, uint32_t) noexcept;
CombineFn pick_combine() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") ? &combine_hw : &combine_sw;
}
#endif

}  // namespace

uint32_t crc32c_combine_op(uint32_t crc_a, uint32_t crc_b, uint32_t shift_op) noexcept {
#if defined(__x86_64__)
  static const CombineFn kFn = pick_combine();
  return kFn(crc_a, crc_b, shift_op);
#else
  return combine_sw(crc_a, crc_b, shift_op);
#endif
}

uint32_t crc32c_combine_op_portable(uint32_t crc_a, uint32_t crc_b, uint32_t shift_op) noexcept {
  return combine_sw(crc_a, crc_b, shift_op);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) noexcept {
  if (len_b == 0) return crc_a;
  return crc32c_combine_op(crc_a, crc_b, crc32c_shift_operator(len_b));
}

}  // namespace mq::storage_mmap
