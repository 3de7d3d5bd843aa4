#pragma once
// The K-quant prompt micro-kernel (16 weight rows x up to 8 tokens, VNNI) and its tile loop,
// shared by the kernels that read rows as they lie in the file (kquant_gemm_avx512.cpp) and the
// ones that read rows repacked at load time (kquant_panels_avx512.cpp): they differ only in how
// a tile's super-blocks are unpacked into UnpackedBlock.
//
// Everything here is in an anonymous namespace on purpose: each including kernel file gets its
// own copy compiled with its own flags, which the linker must never merge (see kernel_sets.h).
// Requires <immintrin.h> and AVX-512 F/BW/VNNI flags in the includer.

#include <cstdint>
#include <cstring>

#include "kernels/weight_matrix.h"
#include "tensor/blocks.h"

namespace autarky {
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

// Four activation bytes (or two int16 bsums) as one int32, to broadcast to every lane.
std::int32_t four_bytes(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// y[t][0..16) (masked) += (or = when `first`) the tile's rows dotted with NT tokens over
// n_blocks super-blocks. Scale groups hold G weights (32 for Q4_K and Q5_K, 16 for the others).
//
// Per output and super-block, the same arithmetic as the decode row kernels
// (kquant_gemv_avx512.cpp), so a token's result does not depend on how many tokens share the call:
// the scaled sub-block dot products S and the bsum term M are summed exactly in int32 (at most
// 8 * 63 * 32 * 31 * 128 for Q5_K, 16 * 128 * 16 * 63 * 128 for Q6_K) and converted once; the
// types with mins (kMinsApart: Q2_K, Q4_K, Q5_K) add S * (d dx) - M * (dmin dx) (one FMS) to the
// output, the ones whose stored codes carry an offset (Q3_K: q + 4, Q6_K: q + 32; M is part of
// the sum) do acc += (S - M) * (d dx) in one FMA.
//
// kInt16Pieces: when a piece of a group's dot product fits int16 (Q4_K's halves: 16 * 15 * 128;
// Q2_K's and Q3_K's whole groups: 16 * 7 * 128 at most), each piece is scaled with vpdpwssd
// (int16 products; the scale's high half is cleared so negative Q3_K scales stay int16) instead
// of multiplying the whole dot product with vpmulld, which costs more than twice as much. 0: the
// dot product may not fit (Q5_K, Q6_K), vpmulld.
template <int G, int NT, int kInt16Pieces, bool kMinsApart>
void multiply_tile(const UnpackedBlock* u, int n_blocks, const BlockQ8_K* const* x, float* const* y, bool first,
                   __mmask16 rows) {
  constexpr int kGroups = kQK_K / G, kSteps = G / 4;
  __m512 acc[NT];
  #pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y[t]);
  for (int b = 0; b < n_blocks; ++b) {
    const UnpackedBlock& ub = u[b];
    __m512i block_sum[NT];
    #pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) block_sum[t] = _mm512_setzero_si512();
    for (int grp = 0; grp < kGroups; ++grp) {
      const __m512i scale = kInt16Pieces > 0 ? _mm512_and_si512(_mm512_load_si512(ub.scale[grp]), _mm512_set1_epi32(0xffff))
                                             : _mm512_load_si512(ub.scale[grp]);
      constexpr int kPieces = kInt16Pieces > 0 ? kInt16Pieces : 1, kPieceSteps = kSteps / kPieces;
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
            dot[t] = _mm512_dpbusd_epi32(dot[t], w, _mm512_set1_epi32(four_bytes(x[t][b].qs + grp * G + 4 * k)));
        }
        #pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
          block_sum[t] = kInt16Pieces > 0 ? _mm512_dpwssd_epi32(block_sum[t], dot[t], scale)
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
                                     _mm512_set1_epi32(four_bytes(x[t][b].bsums + 2 * p)));
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

template <int G, int kInt16Pieces, bool kMinsApart>
void multiply_tile_n(int nt, const UnpackedBlock* u, int n_blocks, const BlockQ8_K* const* x, float* const* y,
                     bool first, __mmask16 rows) {
  switch (nt) {
    case 1: multiply_tile<G, 1, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 2: multiply_tile<G, 2, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 3: multiply_tile<G, 3, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 4: multiply_tile<G, 4, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 5: multiply_tile<G, 5, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 6: multiply_tile<G, 6, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    case 7: multiply_tile<G, 7, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
    default: multiply_tile<G, 8, kInt16Pieces, kMinsApart>(u, n_blocks, x, y, first, rows); break;
  }
}

// The tile loop of a prompt call: for each 16-row tile of [row_begin, row_end) and each chunk of
// kChunkBlocks super-blocks, fill(o0, rows, b0, nb, u) unpacks the tile's blocks [b0, b0 + nb)
// (rows valid rows; the rest may hold anything, their outputs are masked off), and every token
// of the call is multiplied with them.
template <int G, int kInt16Pieces, bool kMinsApart, class Fill>
void gemm_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end, Fill fill) {
  const std::int64_t n_blocks = w.n_in / kQK_K;
  UnpackedBlock u[kChunkBlocks];  // one chunk of one tile, reused by every token
  for (std::int64_t o0 = row_begin; o0 < row_end; o0 += kTileRows) {
    const int rows = static_cast<int>(row_end - o0 < kTileRows ? row_end - o0 : kTileRows);
    const auto row_mask = static_cast<__mmask16>((1u << rows) - 1);
    for (std::int64_t b0 = 0; b0 < n_blocks; b0 += kChunkBlocks) {
      const int nb = static_cast<int>(n_blocks - b0 < kChunkBlocks ? n_blocks - b0 : kChunkBlocks);
      fill(o0, rows, b0, nb, u);
      for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kTileTokens) {
        const int nt = static_cast<int>(n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens);
        const BlockQ8_K* xs[kTileTokens];
        float* ys[kTileTokens];
        for (int t = 0; t < nt; ++t) {
          xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes) + b0;
          ys[t] = y + (t0 + t) * y_stride + o0;
        }
        multiply_tile_n<G, kInt16Pieces, kMinsApart>(nt, u, nb, xs, ys, b0 == 0, row_mask);
      }
    }
  }
}

}  // namespace
}  // namespace autarky
