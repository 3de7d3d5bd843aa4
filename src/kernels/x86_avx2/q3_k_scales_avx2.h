#pragma once
// Q3_K's sixteen 6-bit scales (layout on BlockQ3_K in tensor/blocks.h), minus their bias of 32, as
// int8, with AVX2 operations: shared by the AVX2 kernels and the AVX-512 row and tile kernels (an
// anonymous namespace: each includer gets its own copy under its own flags, see kernel_sets.h).
// Requires <immintrin.h> and AVX2.

#include <cstdint>
#include <cstring>

namespace autarky {
namespace {

// The 12 bytes are read as 8 + 4: a 16-byte load could pass the end of the matrix.
inline __m128i q3_k_scales(const std::uint8_t* packed) {
  std::uint64_t lo;
  std::uint32_t hi;
  std::memcpy(&lo, packed, 8);
  std::memcpy(&hi, packed + 8, 4);
  constexpr std::uint64_t kNibbles = 0x0f0f0f0f0f0f0f0full;
  // Low 4 bits: scale j < 8 in the low nibble of byte j, scale j >= 8 in the high nibble of j - 8.
  const __m128i low = _mm_set_epi64x(static_cast<long long>((lo >> 4) & kNibbles), static_cast<long long>(lo & kNibbles));
  // Top 2 bits: scale j = 4k + m takes bits 2k, 2k + 1 of byte 8 + m, so word k is hi >> 2k.
  const __m128i high = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(static_cast<int>(hi)), _mm_set_epi32(6, 4, 2, 0)),
                                     _mm_set1_epi8(0x03));
  return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi32(high, 4)), _mm_set1_epi8(32));
}

}  // namespace
}  // namespace autarky
