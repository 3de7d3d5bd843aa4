// AMX int8 matmul for prefill: Q8_0 / Q4_0 / Q5_0 weights against Q8_0 activations.
//
// One tile multiply (tdpbssd) computes the exact int32 dot products of one 32-weight block for
// 16 tokens x 16 output rows, i.e. 8192 multiply-adds, where one vpdpbusd does 64. Its K is a
// single block (32 bytes) rather than the 64 a tile can hold, because every block has its own
// weight and activation scales: after each multiply the 16x16 int32 result goes through AVX-512
// (convert, times d_w * d_a, add), and that epilogue, 3 vector ops per token and block, is what
// bounds the kernel; the tile unit itself would allow several times more.
//
// Operands:
//   A (tile 1) = activations: 16 tokens x 32 int8, from a copy of the Q8_0 activations regrouped
//     once per call so that each tile load reads 512 contiguous bytes (loads of 16 rows spread
//     over the activation matrix stalled the tile unit).
//   B (tile 2) = weights: 8 rows of 64 bytes, row k holding weights 4k..4k+3 of each of the 16
//     output rows -- the panel layout of x86_avx512/legacy_panel_pack.h, packed as signed codes
//     (q itself, not q + c) so no offset correction is needed.
//   C (tile 0) = 16 tokens x 16 rows of int32: row m is token m's 16 outputs, which is also the
//     layout of y, so results are stored without a transpose.

#include <immintrin.h>

// GCC 12 reports the deliberately undefined source vector inside some AVX-512 intrinsics
// (_mm512_undefined_*) as "may be used uninitialized" once they are inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdint>
#include <cstring>

#include "kernels/scratch.h"
#include "kernels/x86_amx/legacy_quant_amx.h"
#include "kernels/x86_amx/tile_pipeline.h"
#include "kernels/x86_avx512/legacy_panel_pack.h"
#include "kernels/x86_avx512/legacy_quant_avx512.h"

namespace autarky::amx {
namespace {

using kernels::ScratchSlot;
using kernels::thread_scratch;

constexpr int kTileTokens = 16;         // rows of the A and C tiles
constexpr int kChunkBlocks = 32;        // blocks per repacked panel chunk: 32 * 512 B = 16 KiB
constexpr std::int64_t kMinTokens = 8;  // fewer tokens: the VNNI kernels (no tile set-up, no padding)

// The tile shapes: 0 = C (16 x 64 bytes of int32), 1 = A (16 x 32 bytes), 2 = B (8 x 64 bytes),
// and 3, 4, 5 the same again for a second block in flight.
struct alignas(64) TileConfig {
  std::uint8_t palette = 1;
  std::uint8_t start_row = 0;
  std::uint8_t reserved[14] = {};
  std::uint16_t colsb[16] = {};
  std::uint8_t rows[16] = {};
};

constexpr TileConfig make_tile_config() {
  TileConfig c;
  for (int i = 0; i < 6; i += 3) {
    c.rows[i] = kTileTokens;  // C
    c.colsb[i] = kPanelRows * 4;
    c.rows[i + 1] = kTileTokens;  // A
    c.colsb[i + 1] = kQK;
    c.rows[i + 2] = kQK / 4;  // B
    c.colsb[i + 2] = kPanelRows * 4;
  }
  return c;
}

// From a constant in memory on purpose: GCC 12 does not treat ldtilecfg as reading all 64 bytes
// of its operand and drops the stores that would fill a local one.
constexpr TileConfig kTileConfig = make_tile_config();

void configure_tiles() { _tile_loadconfig(&kTileConfig); }

// The activations regrouped once per call so that a tile load reads 512 contiguous bytes: per
// group of 16 tokens and block, the 16 tokens' 32 codes one after another, and their scales as
// floats. Tokens past n_tokens in the last group are zero codes with scale 0.
//   codes [n_groups][nb][16][32], scales [n_groups][nb][16].
struct GroupedActivations {
  const std::int8_t* codes;
  const float* scales;
};

GroupedActivations group_activations(const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                                     std::int64_t nb, std::int64_t n_groups) {
  const std::size_t slots = static_cast<std::size_t>(n_groups * nb * kTileTokens);
  std::uint8_t* mem = thread_scratch(ScratchSlot::kActivationInfo, slots * (kQK + sizeof(float)));
  auto* codes = reinterpret_cast<std::int8_t*>(mem);
  auto* scales = reinterpret_cast<float*>(mem + slots * kQK);
  for (std::int64_t t = 0; t < n_groups * kTileTokens; ++t) {
    const std::uint8_t* row = x + static_cast<std::uint64_t>(t) * x_row_bytes;
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t slot = (t / kTileTokens * nb + b) * kTileTokens + t % kTileTokens;
      if (t < n_tokens) {
        const std::uint8_t* blk = row + b * sizeof(BlockQ8_0);
        std::uint16_t d16;
        std::memcpy(&d16, blk, 2);
        scales[slot] = _cvtsh_ss(d16);
        _mm256_store_si256(reinterpret_cast<__m256i*>(codes + slot * kQK),
                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2)));
      } else {
        scales[slot] = 0.0f;
        _mm256_store_si256(reinterpret_cast<__m256i*>(codes + slot * kQK), _mm256_setzero_si256());
      }
    }
  }
  return {codes, scales};
}

// acc[m] += the int32 block products in c (row m: token m), times d_w (per row) * d_a (per token).
__attribute__((always_inline)) inline void scale_and_add(const std::int32_t* c, const float* scales_j,
                                                         const float* da, __m512* acc) {
  const __m512 dw = _mm512_load_ps(scales_j);
#pragma GCC unroll 16
  for (int m = 0; m < kTileTokens; ++m) {
    const __m512 sum = _mm512_cvtepi32_ps(_mm512_load_si512(c + m * kPanelRows));
    acc[m] = _mm512_fmadd_ps(sum, _mm512_mul_ps(dw, _mm512_set1_ps(da[m])), acc[m]);
  }
}

// acc[m] (16 output rows of token m) += the panel chunk's blocks times one token group's
// activations (a: [n_blocks][16][32] codes, da: [n_blocks][16] scales).
__attribute__((always_inline)) inline void multiply_chunk(const std::uint8_t* codes, const float* scales,
                                                          int n_blocks, const std::int8_t* a, const float* da,
                                                          __m512* acc) {
  pipelined_tile_products(
      n_blocks,
      [&](int j) { return TileOperands{a + j * kTileTokens * kQK, kQK, codes + j * 8 * 64}; },
      [&](int j, const std::int32_t* c, __m512* out) {
        scale_and_add(c, scales + j * kPanelRows, da + j * kTileTokens, out);
      },
      acc);
}

template <class L>
void matmul_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                  float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t nb = w.n_in / kQK;

  const std::int64_t n_groups = (n_tokens + kTileTokens - 1) / kTileTokens;
  const GroupedActivations act = group_activations(x, x_row_bytes, n_tokens, nb, n_groups);

  const int chunk = static_cast<int>(nb < kChunkBlocks ? nb : kChunkBlocks);
  std::uint8_t* panel = thread_scratch(ScratchSlot::kPanel, static_cast<std::size_t>(chunk) * (8 * 64 + 2 * 64));
  std::uint8_t* codes = panel;
  float* scales = reinterpret_cast<float*>(panel + chunk * 8 * 64);
  float* mins = scales + chunk * kPanelRows;  // unused: these types have no min

  configure_tiles();
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const auto lanes = static_cast<__mmask16>((1u << n_valid) - 1);
    const std::uint8_t* rows = w.data + static_cast<std::uint64_t>(r0) * w.row_bytes;
    for (std::int64_t b0 = 0; b0 < nb; b0 += chunk) {
      const int n_blocks = static_cast<int>(nb - b0 < chunk ? nb - b0 : chunk);
      pack_panel<L, PanelCodes::kSigned>(rows, w.row_bytes, n_valid, nb, b0, n_blocks, codes, scales, mins);
      for (std::int64_t g = 0; g < n_groups; ++g) {
        __m512 acc[kTileTokens];
#pragma GCC unroll 16
        for (int m = 0; m < kTileTokens; ++m) acc[m] = _mm512_setzero_ps();
        const std::int64_t slot = (g * nb + b0) * kTileTokens;
        multiply_chunk(codes, scales, n_blocks, act.codes + slot * kQK, act.scales + slot, acc);
        const std::int64_t t0 = g * kTileTokens;
        const std::int64_t n_rows_out = n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens;
        // Constant indices only (a fully unrolled loop), so acc stays in registers.
#pragma GCC unroll 16
        for (int m = 0; m < kTileTokens; ++m) {
          if (m >= n_rows_out) break;
          float* out = y + (t0 + m) * y_stride + r0;
          const __m512 prev = b0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(lanes, out);
          _mm512_mask_storeu_ps(out, lanes, _mm512_add_ps(prev, acc[m]));
        }
      }
    }
  }
  _tile_release();
}

}  // namespace

void q8_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinTokens) return avx512::q8_0_q8_0_panels(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  matmul_tiles<Q8_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q4_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinTokens) return avx512::q4_0_q8_0_panels(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  matmul_tiles<Q4_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}
void q5_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens < kMinTokens) return avx512::q5_0_q8_0_panels(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  matmul_tiles<Q5_0Layout>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::amx
