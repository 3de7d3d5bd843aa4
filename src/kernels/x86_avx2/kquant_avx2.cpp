// K-quant weights (Q2_K .. Q6_K) times Q8_K activations with AVX2: one weight row at a time, each
// super-block unpacked (codes as bytes, scales as int16 vectors) and multiplied with up to four
// tokens; prompts unpack a whole row once and reuse it for every group of four tokens. vpmaddubsw
// (u8 weights x s8 activations, pairs summed to int16: at most 2 * 63 * 128, no saturation) then
// vpmaddwd against the sub-block scale gives exact int32 sums; mins (Q2_K, Q4_K, Q5_K) and the
// offsets (Q3_K, Q6_K) come from the Q8_K block sums.
//
// Compiled with AVX2/FMA/F16C flags: no inline functions of shared headers (see kernel_sets.h).
// The short fixed loops carry `#pragma GCC unroll` so that their vectors can stay in registers.

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kquant_token_groups.h"
#include "kernels/scratch.h"
#include "kernels/x86_avx2/kquant_avx2.h"
#include "kernels/x86_avx2/q3_k_scales_avx2.h"
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

// The types whose codes are stored with an offset (q + 32 for Q6_K, q + 4 for Q3_K), corrected
// by 2^shift * scale * (sum of the sub-block's activations); the others (Q2_K, Q4_K, Q5_K) have
// a min term instead.
template <typename Block>
constexpr int kOffsetShift = std::is_same_v<Block, BlockQ6_K> ? 5 : std::is_same_v<Block, BlockQ3_K> ? 2 : 0;

// One super-block ready for the multiply: what decode builds in registers per super-block, and
// what prompts build once per row in L1 and reuse for every group of tokens. (The helpers below
// are always inlined: as calls, the struct goes through memory and decode was 24% slower.)
struct UnpackedSuperBlock {
  __m256i q[8];      // 32 codes of sub-block j (16-weight types: weights 32j .. 32j+31, offset
                     // included)
  __m256i scale[8];  // their scale in every int16 (16-weight types: one scale per 128-bit half)
  __m256i sums;      // the multipliers of the activation block sums (int16): Q4_K/Q5_K each min
                     // twice, Q2_K its 16 mins, Q3_K/Q6_K the 16 scales
  float d, dmin;
};

// Q4_K and Q5_K (the same plus a fifth bit per weight, codes 0..31 instead of 0..15).
template <typename Block>
__attribute__((always_inline)) inline void unpack(const Block& blk, UnpackedSuperBlock& u) {
  constexpr bool kFifthBit = std::is_same_v<Block, BlockQ5_K>;
  const __m256i nibble = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  alignas(16) std::uint8_t sc[16];
  const __m128i mn8 = unpack_q4_k_scales(blk.scales, sc);
#pragma GCC unroll 8
  for (int g = 0; g < 4; ++g) {
    const __m256i packed = load256(blk.qs + 32 * g);
    u.q[2 * g] = _mm256_and_si256(packed, nibble);
    u.q[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
  }
  if constexpr (kFifthBit) {
    // Sub-block j's fifth bits are bit j of qh[0..31]: move it to bit 0 of each byte (the 16-bit
    // shift carries bits across bytes, the mask drops them), then up to bit 4.
    const __m256i qh = load256(blk.qh);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(qh, j), one);
      u.q[j] = _mm256_or_si256(u.q[j], _mm256_slli_epi16(bit, 4));
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) u.scale[j] = _mm256_set1_epi16(sc[j]);
  u.sums = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));  // each min twice
  u.d = half_to_float(blk.d);
  u.dmin = half_to_float(blk.dmin);
}

__attribute__((always_inline)) inline void unpack(const BlockQ6_K& blk, UnpackedSuperBlock& u) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(0x03);
#pragma GCC unroll 8
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = load256(blk.ql + 64 * h), ql1 = load256(blk.ql + 64 * h + 32);
    const __m256i qh = load256(blk.qh + 32 * h);
#pragma GCC unroll 8
    for (int s = 0; s < 4; ++s) {
      const __m256i low = s < 2 ? (s == 0 ? ql0 : ql1) : _mm256_srli_epi16(s == 2 ? ql0 : ql1, 4);
      const __m256i top = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * s), two_bits);
      u.q[4 * h + s] = _mm256_or_si256(_mm256_and_si256(low, nibble), _mm256_slli_epi16(top, 4));
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) {
    u.scale[v] = _mm256_set_m128i(_mm_set1_epi16(blk.scales[2 * v + 1]), _mm_set1_epi16(blk.scales[2 * v]));
  }
  u.sums = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
  u.d = half_to_float(blk.d);
  u.dmin = 0.0f;
}

// Q2_K and Q3_K: weight 128h + 32s + l is bits 2s..2s+1 of qs[32h + l], so q[4h + s] holds
// sub-blocks 8h + 2s and 8h + 2s + 1; scales[j] are the 16 sub-blocks' scales.
template <typename Block>
__attribute__((always_inline)) inline void unpack_two_bit_planes(const Block& blk, const std::int16_t* scales, UnpackedSuperBlock& u) {
  const __m256i two_bits = _mm256_set1_epi8(0x03);
#pragma GCC unroll 8
  for (int h = 0; h < 2; ++h) {
    const __m256i qs = load256(blk.qs + 32 * h);
#pragma GCC unroll 8
    for (int s = 0; s < 4; ++s) u.q[4 * h + s] = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * s), two_bits);
  }
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) u.scale[v] = _mm256_set_m128i(_mm_set1_epi16(scales[2 * v + 1]), _mm_set1_epi16(scales[2 * v]));
}

__attribute__((always_inline)) inline void unpack(const BlockQ2_K& blk, UnpackedSuperBlock& u) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));  // scale | min << 4
  const __m128i nibble = _mm_set1_epi8(0x0f);
  alignas(32) std::int16_t scales[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(scales), _mm256_cvtepu8_epi16(_mm_and_si128(packed, nibble)));
  unpack_two_bit_planes(blk, scales, u);
  u.sums = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), nibble));
  u.d = half_to_float(blk.d);
  u.dmin = half_to_float(blk.dmin);
}

// Q3_K: the third bit (bit 4h + s of hmask[l]) set means q = low bits, clear means low bits - 4;
// stored as low + 4 * bit (0..7) with the offset 4.
__attribute__((always_inline)) inline void unpack(const BlockQ3_K& blk, UnpackedSuperBlock& u) {
  alignas(32) std::int16_t scales[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(scales), _mm256_cvtepi8_epi16(q3_k_scales(blk.scales)));
  unpack_two_bit_planes(blk, scales, u);
  const __m256i hmask = load256(blk.hmask), one = _mm256_set1_epi8(1);
#pragma GCC unroll 8
  for (int v = 0; v < 8; ++v) {
    const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(hmask, v), one);
    u.q[v] = _mm256_or_si256(u.q[v], _mm256_slli_epi16(bit, 2));
  }
  u.sums = _mm256_load_si256(reinterpret_cast<const __m256i*>(scales));
  u.d = half_to_float(blk.d);
  u.dmin = 0.0f;
}

// Accumulators of NT tokens: acc gets d * d_a * (codes . a); min_acc the min terms (Q4_K, Q5_K).
template <int NT>
struct TokenSums {
  __m256 acc[NT], min_acc[NT];
};

// Super-block b of NT tokens against one unpacked super-block. vpmaddubsw (u8 codes x s8
// activations, pairs summed to int16: at most 2 * 63 * 128, no saturation), vpmaddwd against the
// scales: exact int32 sums. The same operations for a token whatever NT.
template <typename Block, int NT>
__attribute__((always_inline)) inline void multiply(const UnpackedSuperBlock& u, const BlockQ8_K* const* x,
                                                    std::int64_t b, TokenSums<NT>& s) {
  // Sub-block outer, tokens inner: each sub-block's codes and scale are loaded once for all NT
  // tokens (the int32 sums do not depend on the order in which they are added).
  __m256i isum[NT];
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const __m256i q = u.q[j], scale = u.scale[j];
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m256i p = _mm256_maddubs_epi16(q, load256(x[t][b].qs + 32 * j));
      isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(p, scale));
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) {
    const BlockQ8_K& a = x[t][b];
    const __m256i sums = _mm256_madd_epi16(u.sums, load256(a.bsums));
    if constexpr (kOffsetShift<Block> != 0) {
      isum[t] = _mm256_sub_epi32(isum[t], _mm256_slli_epi32(sums, kOffsetShift<Block>));
    }
    s.acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(u.d * a.d), s.acc[t]);
    if constexpr (kOffsetShift<Block> == 0) {
      s.min_acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(u.dmin * a.d), s.min_acc[t]);
    }
  }
}

template <int NT>
__attribute__((always_inline)) inline void start(TokenSums<NT>& s) {
  for (int t = 0; t < NT; ++t) s.acc[t] = s.min_acc[t] = _mm256_setzero_ps();
}

template <typename Block, int NT>
__attribute__((always_inline)) inline void finish(const TokenSums<NT>& s, float* out) {
  for (int t = 0; t < NT; ++t) {
    out[t] = kOffsetShift<Block> != 0 ? sum_lanes(s.acc[t]) : sum_lanes(s.acc[t]) - sum_lanes(s.min_acc[t]);
  }
}

// One row against NT tokens, each super-block unpacked in registers (decode, short batches).
template <typename Block, int NT>
void k_row(const Block* w, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  TokenSums<NT> s;
  start(s);
  for (std::int64_t b = 0; b < n_blocks; ++b) {
    prefetch_block(w + b + kPrefetchBlocks);
    UnpackedSuperBlock u;
    unpack(w[b], u);
    multiply<Block, NT>(u, x, b, s);
  }
  finish<Block>(s, out);
}

// One row, already unpacked, against NT tokens (prompts).
template <typename Block, int NT>
void unpacked_row(const UnpackedSuperBlock* u, const BlockQ8_K* const* x, std::int64_t n_blocks, float* out) {
  TokenSums<NT> s;
  start(s);
  for (std::int64_t b = 0; b < n_blocks; ++b) multiply<Block, NT>(u[b], x, b, s);
  finish<Block>(s, out);
}

template <typename Block>
void k_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
            std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens <= 4) {
    // One group of tokens: unpack straight from the row.
    rows_by_token_groups<Block, k_row<Block, 1>, k_row<Block, 2>, k_row<Block, 3>, k_row<Block, 4>>(
        w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
    return;
  }
  // Prompts: each row is read and unpacked once, into L1/L2, then multiplied with every group of
  // four tokens (instead of being read again from memory and unpacked again per group).
  const std::int64_t n_blocks = w.n_in / kQK_K;
  auto* u = reinterpret_cast<UnpackedSuperBlock*>(kernels::thread_scratch(
      kernels::ScratchSlot::kRowBuffer, static_cast<std::size_t>(n_blocks) * sizeof(UnpackedSuperBlock)));
  for (std::int64_t o = row_begin; o < row_end; ++o) {
    const auto* row = reinterpret_cast<const Block*>(w.data + static_cast<std::uint64_t>(o) * w.row_bytes);
    for (std::int64_t b = 0; b < n_blocks; ++b) unpack(row[b], u[b]);
    for (std::int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
      const std::int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
      const BlockQ8_K* xs[4];
      for (std::int64_t t = 0; t < nt; ++t) {
        xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes);
      }
      float out[4];
      switch (nt) {
        case 1: unpacked_row<Block, 1>(u, xs, n_blocks, out); break;
        case 2: unpacked_row<Block, 2>(u, xs, n_blocks, out); break;
        case 3: unpacked_row<Block, 3>(u, xs, n_blocks, out); break;
        default: unpacked_row<Block, 4>(u, xs, n_blocks, out); break;
      }
      for (std::int64_t t = 0; t < nt; ++t) y[(t0 + t) * y_stride + o] = out[t];
    }
  }
}

}  // namespace

void q2_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  k_rows<BlockQ2_K>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q3_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  k_rows<BlockQ3_K>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  k_rows<BlockQ4_K>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  k_rows<BlockQ5_K>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  k_rows<BlockQ6_K>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx2
