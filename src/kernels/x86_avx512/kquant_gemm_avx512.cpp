// Q4_K, Q5_K and Q6_K weights times Q8_K activations for many tokens (prefill): a register-blocked
// micro-kernel over 16 weight rows x up to 8 tokens.
//
// The weights of a 16-row tile are unpacked (a few super-blocks at a time, into an L1-sized
// buffer on the stack) to unsigned bytes interleaved by row: one 64-byte vector holds four
// consecutive weights of each of the 16 rows. vpdpbusd against four activation bytes of one
// token broadcast to all lanes then adds a 4-term dot product to every row's lane at once, so
// the 16 lanes are 16 output rows and no horizontal sums are needed. Sub-block scales, the
// super-block scales and the mins / -32 offset (through the Q8_K bsums, with vpdpwssd) are
// applied per lane in the same layout (kquant_tile_avx512.h). The unpacking is done once per
// tile and reused by all tokens of the call, so its cost shrinks with the prompt length.
//
// This file reads the rows as they lie in the file (AUTARKY_REPACK=0, or a caller that did not
// repack); a loaded model normally holds the weights repacked into panels, which
// kquant_panels_avx512.cpp reads with the same micro-kernel.
//
// Compiled with AVX-512 flags: no inline functions of shared headers (see kernel_sets.h).

// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports from inside the intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/x86_avx512/kquant_avx512.h"
#include "kernels/x86_avx512/kquant_tile_avx512.h"
#include "kernels/x86_avx2/q3_k_scales_avx2.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

float half_to_float(std::uint16_t h) { return _cvtsh_ss(h); }

// Writes the 256 unsigned weights of one row of a super-block into the row-interleaved layout.
void scatter_row(const std::uint8_t* q, int r, UnpackedBlock& u) {
  for (int c = 0; c < kQK_K / 4; ++c) std::memcpy(u.q[c][r], q + 4 * c, 4);
}

// Q4_K, or Q5_K with its fifth bits (bit 2g of qh[l] for weight 64g + l, 2g + 1 for 64g + 32 + l).
template <typename Block>
void unpack_q45_k(const Block& blk, int r, UnpackedBlock& u) {
  alignas(64) std::uint8_t q[kQK_K];
  const __m256i nibble = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (int g = 0; g < 4; ++g) {
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * g));
    __m256i lo = _mm256_and_si256(packed, nibble);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
    if constexpr (std::is_same_v<Block, BlockQ5_K>) {
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
      lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one), 4));
      hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one), 4));
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 64 * g), lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 64 * g + 32), hi);
  }
  scatter_row(q, r, u);
  // Scales and mins: 12 bytes, layout in tensor/blocks.h.
  const std::uint8_t* p = blk.scales;
  for (int j = 0; j < 8; ++j) {
    int sc, mn;
    if (j < 4) {
      sc = p[j] & 63;
      mn = p[j + 4] & 63;
    } else {
      sc = (p[j + 4] & 0xf) | ((p[j - 4] >> 6) << 4);
      mn = (p[j + 4] >> 4) | ((p[j] >> 6) << 4);
    }
    u.scale[j][r] = sc;
    u.mins[j][r][0] = u.mins[j][r][1] = static_cast<std::int16_t>(mn);  // bsums 2j, 2j+1: sub-block j
  }
  u.d[r] = half_to_float(blk.d);
  u.dmin[r] = half_to_float(blk.dmin);
}

void unpack_q6_k(const BlockQ6_K& blk, int r, UnpackedBlock& u) {
  alignas(64) std::uint8_t q[kQK_K];
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(0x03);
  const __m512i shift_lo = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
  for (int h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h)));
    const __m512i top_lo = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_lo), two_bits), 4);
    const __m512i top_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi), two_bits), 4);
    _mm512_store_si512(q + 128 * h, _mm512_or_si512(_mm512_and_si512(ql, nibble), top_lo));
    _mm512_store_si512(q + 128 * h + 64, _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), nibble), top_hi));
  }
  scatter_row(q, r, u);
  for (int j = 0; j < 16; ++j) u.scale[j][r] = blk.scales[j];
  // Stored q is q + 32: the offset term is 32 * scale * bsum, per 16-weight sub-block.
  for (int p = 0; p < 8; ++p) {
    u.mins[p][r][0] = static_cast<std::int16_t>(32 * blk.scales[2 * p]);
    u.mins[p][r][1] = static_cast<std::int16_t>(32 * blk.scales[2 * p + 1]);
  }
  u.d[r] = u.dmin[r] = half_to_float(blk.d);
}

// Q2_K and Q3_K codes: weight 128h + 32s + l is bits 2s, 2s + 1 of qs[32h + l]; Q3_K adds 4 times
// bit 4h + s of hmask[l] (the stored code is q + 4, 0..7).
template <typename Block>
void unpack_two_bit_codes(const Block& blk, std::uint8_t* q) {
  const __m256i two_bits = _mm256_set1_epi8(0x03), one = _mm256_set1_epi8(1);
  for (int h = 0; h < 2; ++h) {
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * h));
    for (int s = 0; s < 4; ++s) {
      __m256i c = _mm256_and_si256(_mm256_srli_epi16(packed, 2 * s), two_bits);
      if constexpr (std::is_same_v<Block, BlockQ3_K>) {
        const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.hmask));
        c = _mm256_or_si256(c, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + s), one), 2));
      }
      _mm256_store_si256(reinterpret_cast<__m256i*>(q + 128 * h + 32 * s), c);
    }
  }
}

void unpack_q2_k(const BlockQ2_K& blk, int r, UnpackedBlock& u) {
  alignas(64) std::uint8_t q[kQK_K];
  unpack_two_bit_codes(blk, q);
  scatter_row(q, r, u);
  for (int j = 0; j < 16; ++j) u.scale[j][r] = blk.scales[j] & 0xf;
  for (int p = 0; p < 8; ++p) {  // the mins weigh the bsums of their sub-blocks
    u.mins[p][r][0] = static_cast<std::int16_t>(blk.scales[2 * p] >> 4);
    u.mins[p][r][1] = static_cast<std::int16_t>(blk.scales[2 * p + 1] >> 4);
  }
  u.d[r] = half_to_float(blk.d);
  u.dmin[r] = half_to_float(blk.dmin);
}

void unpack_q3_k(const BlockQ3_K& blk, int r, UnpackedBlock& u) {
  alignas(64) std::uint8_t q[kQK_K];
  unpack_two_bit_codes(blk, q);
  scatter_row(q, r, u);
  alignas(16) std::int8_t sc[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(sc), q3_k_scales(blk.scales));
  for (int j = 0; j < 16; ++j) u.scale[j][r] = sc[j];
  // Stored q is q + 4: the offset term is 4 * scale * bsum, per 16-weight sub-block.
  for (int p = 0; p < 8; ++p) {
    u.mins[p][r][0] = static_cast<std::int16_t>(4 * sc[2 * p]);
    u.mins[p][r][1] = static_cast<std::int16_t>(4 * sc[2 * p + 1]);
  }
  u.d[r] = u.dmin[r] = half_to_float(blk.d);
}

template <typename Block, void (*Unpack)(const Block&, int, UnpackedBlock&), int G, int kInt16Pieces, bool kMinsApart>
void gemm_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const auto fill = [&w](std::int64_t o0, int rows, std::int64_t b0, int nb, UnpackedBlock* u) {
    if (rows < kTileRows) std::memset(static_cast<void*>(u), 0, sizeof(UnpackedBlock) * nb);  // missing rows: 0
    for (int r = 0; r < rows; ++r) {
      const auto* row = reinterpret_cast<const Block*>(w.data + static_cast<std::uint64_t>(o0 + r) * w.row_bytes);
      for (int i = 0; i < nb; ++i) Unpack(row[b0 + i], r, u[i]);
    }
  };
  gemm_tiles<G, kInt16Pieces, kMinsApart>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end, fill);
}

}  // namespace

void q2_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q2_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ2_K, unpack_q2_k, 16, 1, true>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q3_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q3_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ3_K, unpack_q3_k, 16, 1, false>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q4_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ4_K, unpack_q45_k<BlockQ4_K>, 32, 2, true>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q5_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ5_K, unpack_q45_k<BlockQ5_K>, 32, 0, true>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q6_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ6_K, unpack_q6_k, 16, 0, false>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

}  // namespace autarky::avx512
