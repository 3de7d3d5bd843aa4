// Q4_K, Q5_K and Q6_K weights times Q8_K activations with AVX2: one weight row at a time, each
// super-block unpacked once and multiplied with up to four tokens. vpmaddubsw (u8 weights x s8
// activations, pairs summed to int16: at most 2 * 63 * 128, no saturation) then vpmaddwd
// against the sub-block scale gives exact int32 sums; mins (Q4_K, Q5_K) and the -32 offset
// (Q6_K) come from the Q8_K block sums.
//
// Compiled with AVX2/FMA/F16C flags: no inline functions of shared headers (see kernel_sets.h).
// The short fixed loops carry `#pragma GCC unroll` so that their vectors can stay in registers.

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kquant_token_groups.h"
#include "kernels/x86_avx2/kquant_avx2.h"
#include "tensor/blocks.h"

namespace autarky::avx2 {

namespace {

float half_to_float(std::uint16_t h) { return _cvtsh_ss(h); }

float sum_lanes(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// Q4_K's 12 packed bytes to eight 6-bit scales (bytes, read one at a time) and eight 6-bit mins
// (returned in bytes 0-7 of a vector: storing them 4 bytes at a time and reloading 8 would stall
// on store forwarding in every super-block). Layout in blocks.h.
__m128i unpack_q4_k_scales(const std::uint8_t* packed, std::uint8_t* scales) {
  std::uint32_t a, b, c;
  std::memcpy(&a, packed, 4);
  std::memcpy(&b, packed + 4, 4);
  std::memcpy(&c, packed + 8, 4);
  const std::uint32_t s_lo = a & 0x3f3f3f3fu;
  const std::uint32_t m_lo = b & 0x3f3f3f3fu;
  const std::uint32_t s_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
  const std::uint32_t m_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
  std::memcpy(scales, &s_lo, 4);
  std::memcpy(scales + 4, &s_hi, 4);
  return _mm_set_epi32(0, 0, static_cast<int>(m_hi), static_cast<int>(m_lo));
}

// Decode streams each weight row once: keep DRAM reads in flight by asking for the super-block
// kPrefetchBlocks ahead (past a row's end, the next row; prefetches never fault).
constexpr std::int64_t kPrefetchBlocks = 16;

template <typename Block>
void prefetch_block(const Block* blk) {
  const char* p = reinterpret_cast<const char*>(blk);
  for (std::size_t off = 0; off < sizeof(Block); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

__m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Q4_K and Q5_K (the same plus a fifth bit per weight, codes 0..31 instead of 0..15).
template <typename Block, int NT>
void q4_q5_k_row(const Block* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  __m256 acc[NT], min_acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = min_acc[t] = _mm256_setzero_ps();
  const __m256i nibble = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (std::int64_t b = 0; b < n_blocks; ++b) {
    prefetch_block(w + b + kPrefetchBlocks);
    const Block& blk = w[b];
    alignas(16) std::uint8_t sc[16];
    const __m128i mn8 = unpack_q4_k_scales(blk.scales, sc);
    __m256i q[8], scale[8];  // 32 weights of sub-block j, its scale in every int16
#pragma GCC unroll 8
    for (int g = 0; g < 4; ++g) {
      const __m256i packed = load256(blk.qs + 32 * g);
      q[2 * g] = _mm256_and_si256(packed, nibble);
      q[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
    }
    if constexpr (kFifthBit) {
      // Sub-block j's fifth bits are bit j of qh[0..31]: move it to bit 0 of each byte (the
      // 16-bit shift carries bits across bytes, the mask drops them), then up to bit 4.
      const __m256i qh = load256(blk.qh);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, j), one);
        q[j] = _mm256_or_si256(q[j], _mm256_slli_epi16(bit, 4));
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) scale[j] = _mm256_set1_epi16(sc[j]);
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));  // each min twice
    const float d = half_to_float(blk.d), dmin = half_to_float(blk.dmin);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = x[t][b];
      __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const __m256i p = _mm256_maddubs_epi16(q[j], load256(a.qs + 32 * j));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, scale[j]));
      }
      const __m256i m = _mm256_madd_epi16(mins16, load256(a.bsums));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d * a.d), acc[t]);
      min_acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(dmin * a.d), min_acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = sum_lanes(acc[t]) - sum_lanes(min_acc[t]);
}

template <int NT>
void q6_k_row(const BlockQ6_K* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(0x03);
  for (std::int64_t b = 0; b < n_blocks; ++b) {
    prefetch_block(w + b + kPrefetchBlocks);
    const BlockQ6_K& blk = w[b];
    __m256i q[8], scale[8];  // weights 32v .. 32v+31 (sub-blocks 2v, 2v+1) and their scales
#pragma GCC unroll 8
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(blk.ql + 64 * h), ql1 = load256(blk.ql + 64 * h + 32);
      const __m256i qh = load256(blk.qh + 32 * h);
#pragma GCC unroll 8
      for (int s = 0; s < 4; ++s) {
        const __m256i low = s < 2 ? (s == 0 ? ql0 : ql1) : _mm256_srli_epi16(s == 2 ? ql0 : ql1, 4);
        const __m256i top = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * s), two_bits);
        q[4 * h + s] = _mm256_or_si256(_mm256_and_si256(low, nibble), _mm256_slli_epi16(top, 4));
      }
    }
#pragma GCC unroll 8
    for (int v = 0; v < 8; ++v)
      scale[v] = _mm256_set_m128i(_mm_set1_epi16(blk.scales[2 * v + 1]), _mm_set1_epi16(blk.scales[2 * v]));
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
    const float d = half_to_float(blk.d);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = x[t][b];
      __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int v = 0; v < 8; ++v) {
        const __m256i p = _mm256_maddubs_epi16(q[v], load256(a.qs + 32 * v));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, scale[v]));
      }
      // q is stored as q + 32: subtract 32 * scale * (sum of the sub-block's activations).
      isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(a.bsums)), 5));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d * a.d), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t] = sum_lanes(acc[t]);
}

}  // namespace

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  using B = BlockQ4_K;
  rows_by_token_groups<B, q4_q5_k_row<B, 1>, q4_q5_k_row<B, 2>, q4_q5_k_row<B, 3>, q4_q5_k_row<B, 4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  using B = BlockQ5_K;
  rows_by_token_groups<B, q4_q5_k_row<B, 1>, q4_q5_k_row<B, 2>, q4_q5_k_row<B, 3>, q4_q5_k_row<B, 4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows_by_token_groups<BlockQ6_K, q6_k_row<1>, q6_k_row<2>, q6_k_row<3>, q6_k_row<4>>(
      w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx2
