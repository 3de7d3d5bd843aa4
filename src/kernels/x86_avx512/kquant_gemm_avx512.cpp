// Q4_K, Q5_K and Q6_K weights times Q8_K activations for many tokens (prefill): a register-blocked
// micro-kernel over 16 weight rows x up to 8 tokens.
//
// The weights of a 16-row tile are unpacked (a few super-blocks at a time, into an L1-sized
// buffer on the stack) to unsigned bytes interleaved by row: one 64-byte vector holds four
// consecutive weights of each of the 16 rows. vpdpbusd against four activation bytes of one
// token broadcast to all lanes then adds a 4-term dot product to every row's lane at once, so
// the 16 lanes are 16 output rows and no horizontal sums are needed. Sub-block scales, the
// super-block scales and the mins / -32 offset (through the Q8_K bsums, with vpdpwssd) are
// applied per lane in the same layout. The unpacking is done once per tile and reused by all
// tokens of the call, so its cost shrinks with the prompt length; nothing is repacked at load
// time and the mapped file stays the only copy of the weights.
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
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

constexpr int kTileRows = 16;     // one output row per int32 lane
constexpr int kChunkBlocks = 4;   // super-blocks unpacked at a time (~23 KB, stays in L1)
constexpr int kTileTokens = 8;    // tokens per micro-kernel call (3 x 8 accumulators in registers)
constexpr int kMinGemmTokens = 6; // below this the unpacking does not pay: one row at a time

// One super-block of a 16-row tile, ready for the micro-kernel.
struct alignas(64) UnpackedBlock {
  std::uint8_t q[kQK_K / 4][kTileRows][4];  // [weight / 4][row][weight % 4], unsigned
  std::int32_t scale[16][kTileRows];        // [scale group][row]: sub-block scale (Q4_K: 8 groups of 32)
  std::int16_t mins[8][kTileRows][2];       // [bsum pair][row][2]: weights of the Q8_K bsums
  float d[kTileRows];                       // super-block scale
  float dmin[kTileRows];                    // scale of the bsum term (subtracted; Q4_K, Q5_K)
};

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

std::int32_t load_i32(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// y[t][0..16) (masked) += (or = when `first`) the tile's rows dotted with NT tokens over
// n_blocks super-blocks. Scale groups hold G weights (32 for Q4_K, 16 for Q6_K).
//
// Per output and super-block, the same arithmetic as the decode row kernels
// (kquant_gemv_avx512.cpp), so a token's result does not depend on how many tokens share the call:
// the scaled sub-block dot products S and the bsum term M are summed exactly in int32 (at most
// 8 * 63 * 32 * 31 * 128 for Q5_K, 16 * 128 * 16 * 63 * 128 for Q6_K) and converted once; Q4_K
// and Q5_K add S * (d dx) - M * (dmin dx) (one FMS) to the output, Q6_K (whose stored q is q + 32,
// so M is part of the sum) does acc += (S - M) * (d dx) in one FMA.
//
// kInt16Halves (Q4_K: half a group's dot product is at most 16 * 15 * 128, which fits int16):
// scale the two halves with vpdpwssd (int16 products, high half of the scale lane 0) instead of
// multiplying the whole dot product with vpmulld, which costs more than twice as much.
template <int G, int NT, bool kInt16Halves>
void multiply_tile(const UnpackedBlock* u, int n_blocks, const BlockQ8_K* const* x, float* const* y, bool first,
                   __mmask16 rows) {
  constexpr int kGroups = kQK_K / G, kSteps = G / 4;
  constexpr bool kMinsApart = G == 32;  // Q4_K, Q5_K: mins scaled by dmin; Q6_K: -32 offset in the sum
  __m512 acc[NT];
  #pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y[t]);
  for (int b = 0; b < n_blocks; ++b) {
    const UnpackedBlock& ub = u[b];
    __m512i block_sum[NT];
    #pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) block_sum[t] = _mm512_setzero_si512();
    for (int grp = 0; grp < kGroups; ++grp) {
      const __m512i scale = _mm512_load_si512(ub.scale[grp]);
      constexpr int kPieces = kInt16Halves ? 2 : 1, kPieceSteps = kSteps / kPieces;
      #pragma GCC unroll 2
      for (int piece = 0; piece < kPieces; ++piece) {
        __m512i dot[NT];
        #pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) dot[t] = _mm512_setzero_si512();
        #pragma GCC unroll 16
        for (int j = 0; j < kPieceSteps; ++j) {
          const int k = piece * kPieceSteps + j;
          const __m512i w = _mm512_load_si512(ub.q[grp * kSteps + k]);
          #pragma GCC unroll 16
          for (int t = 0; t < NT; ++t)
            dot[t] = _mm512_dpbusd_epi32(dot[t], w, _mm512_set1_epi32(load_i32(x[t][b].qs + grp * G + 4 * k)));
        }
        #pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
          block_sum[t] = kInt16Halves ? _mm512_dpwssd_epi32(block_sum[t], dot[t], scale)
                                      : _mm512_add_epi32(block_sum[t], _mm512_mullo_epi32(dot[t], scale));
        }
      }
    }
    const __m512 d = _mm512_load_ps(ub.d), dmin = _mm512_load_ps(ub.dmin);
    #pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) {
      __m512i offset = _mm512_setzero_si512();
      #pragma GCC unroll 16
      for (int p = 0; p < 8; ++p)
        offset = _mm512_dpwssd_epi32(offset, _mm512_load_si512(ub.mins[p]),
                                     _mm512_set1_epi32(load_i32(x[t][b].bsums + 2 * p)));
      const __m512 xd = _mm512_set1_ps(x[t][b].d);
      if constexpr (kMinsApart) {
        const __m512 mins = _mm512_mul_ps(_mm512_cvtepi32_ps(offset), _mm512_mul_ps(dmin, xd));
        acc[t] = _mm512_add_ps(acc[t], _mm512_fmsub_ps(_mm512_cvtepi32_ps(block_sum[t]), _mm512_mul_ps(d, xd), mins));
      } else {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(block_sum[t], offset)), _mm512_mul_ps(d, xd),
                                 acc[t]);
      }
    }
  }
  #pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y[t], rows, acc[t]);
}

template <int G, bool kInt16Halves>
void multiply_tile_n(int nt, const UnpackedBlock* u, int n_blocks, const BlockQ8_K* const* x, float* const* y,
                     bool first, __mmask16 rows) {
  switch (nt) {
    case 1: multiply_tile<G, 1, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 2: multiply_tile<G, 2, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 3: multiply_tile<G, 3, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 4: multiply_tile<G, 4, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 5: multiply_tile<G, 5, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 6: multiply_tile<G, 6, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    case 7: multiply_tile<G, 7, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
    default: multiply_tile<G, 8, kInt16Halves>(u, n_blocks, x, y, first, rows); break;
  }
}

template <typename Block, void (*Unpack)(const Block&, int, UnpackedBlock&), int G, bool kInt16Halves>
void gemm_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t n_blocks = w.n_in / kQK_K;
  UnpackedBlock u[kChunkBlocks];  // one chunk of one tile, reused by every token
  for (std::int64_t o0 = row_begin; o0 < row_end; o0 += kTileRows) {
    const int rows = static_cast<int>(row_end - o0 < kTileRows ? row_end - o0 : kTileRows);
    const auto row_mask = static_cast<__mmask16>((1u << rows) - 1);
    for (std::int64_t b0 = 0; b0 < n_blocks; b0 += kChunkBlocks) {
      const int nb = static_cast<int>(n_blocks - b0 < kChunkBlocks ? n_blocks - b0 : kChunkBlocks);
      if (rows < kTileRows) std::memset(static_cast<void*>(u), 0, sizeof(UnpackedBlock) * nb);  // missing rows: 0
      for (int r = 0; r < rows; ++r) {
        const auto* row = reinterpret_cast<const Block*>(w.data + static_cast<std::uint64_t>(o0 + r) * w.row_bytes);
        for (int i = 0; i < nb; ++i) Unpack(row[b0 + i], r, u[i]);
      }
      for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens) {
        const int nt = static_cast<int>(n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens);
        const BlockQ8_K* xs[kTileTokens];
        float* ys[kTileTokens];
        for (int t = 0; t < nt; ++t) {
          xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes) + b0;
          ys[t] = y + (t0 + t) * y_stride + o0;
        }
        multiply_tile_n<G, kInt16Halves>(nt, u, nb, xs, ys, b0 == 0, row_mask);
      }
    }
  }
}

}  // namespace

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q4_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ4_K, unpack_q45_k<BlockQ4_K>, 32, true>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q5_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ5_K, unpack_q45_k<BlockQ5_K>, 32, false>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinGemmTokens) {
    q6_k_q8_k_gemv(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  } else {
    gemm_rows<BlockQ6_K, unpack_q6_k, 16, false>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  }
}

}  // namespace autarky::avx512
