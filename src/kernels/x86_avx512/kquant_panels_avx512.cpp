// Q4_K weights repacked at load time into 16-row panels (MatmulKernel::pack / packed_rows), times
// Q8_K activations.
//
// Why: decode of the file's rows (kquant_gemv_avx512.cpp) unpacks every super-block of every row
// on its own, ~55 instructions per row and super-block, and on an AMD Zen 4 core that work, not
// DRAM, bounded Q4_K decode. In a panel the 16 rows' bytes at each offset lie side by side, so
// one 64-byte load and one vpdpbusd serve 16 rows (one row per int32 lane, the prompt
// micro-kernel's layout) and scales and mins are unpacked for 16 rows at once: ~16 instructions
// per row and super-block, with no horizontal sums.
//
// Layout (StoredQ4KPanel): a panel is the 16 rows' super-blocks in order, each 2304 bytes =
// 16 x sizeof(BlockQ4_K), so the matrix keeps its size. Super-block b of the panel is 36 vectors
// of 64 bytes, lane r of each holding 4 bytes of row r as they lie in its block:
//   vector 0      the d, dmin pair (two fp16)
//   vectors 1-3   the 12 packed scale and min bytes, as three words a, b, c (tensor/blocks.h)
//   vectors 4-35  qs: vector 4 + 8g + k holds qs[32g + 4k .. 32g + 4k + 3], i.e. weights
//                 64g + 4k .. + 3 (low nibbles, sub-block 2g) and 64g + 32 + 4k .. (high, 2g + 1)
// A last panel with fewer than 16 rows repeats its last row; those lanes are never stored.
//
// Results: the exact int32 totals S (scaled sub-block sums) and M (mins against the Q8_K bsums)
// of the row kernels, and the same float steps, acc += S * (d dx) - M * (dmin dx) per super-block
// in block order: bit for bit the results of the kernels on the file's rows (tested).
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

#include "kernels/x86_avx512/kquant_avx512.h"
#include "kernels/x86_avx512/kquant_tile_avx512.h"
#include "kernels/x86_avx512/legacy_panel_pack.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

static_assert(kPanelRows == kTileRows, "a stored panel is one micro-kernel tile");

struct StoredQ4KPanel {
  static constexpr std::uint64_t kBlockBytes = kPanelRows * sizeof(BlockQ4_K);
  static constexpr int kCodeVectors = 32;
  const std::uint8_t* first;  // the panel's first super-block

  StoredQ4KPanel(const std::uint8_t* data, std::uint64_t row_bytes, std::int64_t panel)
      : first(data + static_cast<std::uint64_t>(panel) * kPanelRows * row_bytes) {}

  const std::uint8_t* block(std::int64_t b) const { return first + static_cast<std::uint64_t>(b) * kBlockBytes; }
  static const std::uint8_t* codes(const std::uint8_t* blk) { return blk + 4 * 64; }
};

// The 16 rows' sub-block scales and mins of one stored super-block, each byte one 6-bit value:
// lane r of scales[0] holds scales 0-3 of row r, scales[1] scales 4-7; mins likewise (the
// unpacking of tensor/blocks.h, for 16 rows at once).
struct PanelScales {
  __m512i scales[2], mins[2];
  __m512 d, dmin;
};

inline PanelScales unpack_panel_scales(const std::uint8_t* blk) {
  const __m512i ds = _mm512_loadu_si512(blk);
  const __m512i a = _mm512_loadu_si512(blk + 64), b = _mm512_loadu_si512(blk + 128), c = _mm512_loadu_si512(blk + 192);
  const __m512i six_bits = _mm512_set1_epi8(0x3f), low_nibble = _mm512_set1_epi8(0x0f), bits_45 = _mm512_set1_epi8(0x30);
  PanelScales s;
  s.scales[0] = _mm512_and_si512(a, six_bits);
  s.scales[1] = _mm512_or_si512(_mm512_and_si512(c, low_nibble), _mm512_and_si512(_mm512_srli_epi32(a, 2), bits_45));
  s.mins[0] = _mm512_and_si512(b, six_bits);
  s.mins[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low_nibble),
                              _mm512_and_si512(_mm512_srli_epi32(b, 2), bits_45));
  s.d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(ds));
  s.dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(ds, 16)));
  return s;
}

// Byte j of each int32 lane of v, zero-extended (one vpshufb; its byte indices are per 128-bit
// lane, so lane p of each takes byte 4p + j).
inline __m512i byte_of_lanes(__m512i v, int j) {
  return _mm512_shuffle_epi8(v, _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80808000u) | j),
                                                _mm512_set4_epi32(12, 8, 4, 0)));
}

// The same byte in both int16 halves of each lane, for vpdpwssd against a pair of bsums.
inline __m512i byte_of_lanes_twice(__m512i v, int j) {
  return _mm512_shuffle_epi8(v, _mm512_or_si512(_mm512_set1_epi32(static_cast<int>(0x80008000u) | j | j << 16),
                                                _mm512_set4_epi32(0x000c000c, 0x00080008, 0x00040004, 0)));
}

// Decode and small batches: NT tokens, every panel read once, straight from memory to vpdpbusd.
// Half a sub-block's dot product (16 weights, at most 16 * 15 * 128) fits int16, so vpdpwssd
// against the scale (high half of its lane 0) scales it exactly, as the prompt micro-kernel does.
template <int NT>
void panel_rows_tokens(const WeightMatrix& w, const BlockQ8_K* const* x, float* y, std::int64_t y_stride,
                       std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t nb = w.n_in / kQK_K;
  // Read in order and fetched 16 KiB ahead into L2, up to the end of this thread's rows, as the
  // legacy types' stored panels are (legacy_quant_avx512.cpp says why).
  constexpr std::uint64_t kAhead = 16384;
  const std::uint8_t* range_end = StoredQ4KPanel(w.data, w.row_bytes, (row_end + kPanelRows - 1) / kPanelRows).first;
  const __m512i low_nibble = _mm512_set1_epi8(0x0f);
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows);
    const StoredQ4KPanel panel(w.data, w.row_bytes, r0 / kPanelRows);
    __m512 acc[NT];
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::uint8_t* blk = panel.block(b);
      const char* ahead = reinterpret_cast<const char*>(blk) + kAhead;
      if (ahead < reinterpret_cast<const char*>(range_end)) {
#pragma GCC unroll 36
        for (std::uint64_t off = 0; off < StoredQ4KPanel::kBlockBytes; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T1);
      }
      const PanelScales s = unpack_panel_scales(blk);
      const std::uint8_t* codes = StoredQ4KPanel::codes(blk);
      __m512i sums[NT];
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) sums[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m512i scale_low = byte_of_lanes(s.scales[g / 2], (2 * g) % 4);       // sub-block 2g
        const __m512i scale_high = byte_of_lanes(s.scales[g / 2], (2 * g + 1) % 4);  // sub-block 2g + 1
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
          __m512i dot_low[NT], dot_high[NT];
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) dot_low[t] = dot_high[t] = _mm512_setzero_si512();
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) {
            const __m512i v = _mm512_loadu_si512(codes + (8 * g + 4 * half + k) * 64);
            const __m512i low = _mm512_and_si512(v, low_nibble);
            const __m512i high = _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibble);
            const int at = 64 * g + 16 * half + 4 * k;  // the low nibbles' first weight
#pragma GCC unroll 4
            for (int t = 0; t < NT; ++t) {
              dot_low[t] = _mm512_dpbusd_epi32(dot_low[t], low, _mm512_set1_epi32(four_bytes(x[t][b].qs + at)));
              dot_high[t] = _mm512_dpbusd_epi32(dot_high[t], high, _mm512_set1_epi32(four_bytes(x[t][b].qs + at + 32)));
            }
          }
#pragma GCC unroll 4
          for (int t = 0; t < NT; ++t) {
            sums[t] = _mm512_dpwssd_epi32(sums[t], dot_low[t], scale_low);
            sums[t] = _mm512_dpwssd_epi32(sums[t], dot_high[t], scale_high);
          }
        }
      }
      __m512i min_pairs[8];  // sub-block j's min in both halves: against bsums 2j, 2j + 1
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) min_pairs[j] = byte_of_lanes_twice(s.mins[j / 4], j % 4);
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) {
        __m512i mins_term = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          mins_term = _mm512_dpwssd_epi32(mins_term, min_pairs[j], _mm512_set1_epi32(four_bytes(x[t][b].bsums + 2 * j)));
        }
        const __m512 xd = _mm512_set1_ps(x[t][b].d);
        const __m512 mins = _mm512_mul_ps(_mm512_cvtepi32_ps(mins_term), _mm512_mul_ps(s.dmin, xd));
        acc[t] = _mm512_add_ps(acc[t], _mm512_fmsub_ps(_mm512_cvtepi32_ps(sums[t]), _mm512_mul_ps(s.d, xd), mins));
      }
    }
    const auto lanes = static_cast<__mmask16>((1u << n_valid) - 1);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) _mm512_mask_storeu_ps(y + t * y_stride + r0, lanes, acc[t]);
  }
}

// Prompts: the tile loop of the micro-kernel, with each chunk unpacked from the panel (two
// ands and a shift per 64 bytes, where the file's rows need a scatter of every row).
void fill_tile_from_panel(const WeightMatrix& w, std::int64_t o0, std::int64_t b0, int nb, UnpackedBlock* u) {
  const StoredQ4KPanel panel(w.data, w.row_bytes, o0 / kPanelRows);
  const __m512i low_nibble = _mm512_set1_epi8(0x0f);
  for (int i = 0; i < nb; ++i) {
    const std::uint8_t* blk = panel.block(b0 + i);
    const PanelScales s = unpack_panel_scales(blk);
    const std::uint8_t* codes = StoredQ4KPanel::codes(blk);
    for (int g = 0; g < 4; ++g) {
      for (int k = 0; k < 8; ++k) {
        const __m512i v = _mm512_loadu_si512(codes + (8 * g + k) * 64);
        _mm512_store_si512(u[i].q[16 * g + k], _mm512_and_si512(v, low_nibble));
        _mm512_store_si512(u[i].q[16 * g + 8 + k], _mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibble));
      }
    }
    for (int j = 0; j < 8; ++j) {
      _mm512_store_si512(u[i].scale[j], byte_of_lanes(s.scales[j / 4], j % 4));
      _mm512_store_si512(u[i].mins[j], byte_of_lanes_twice(s.mins[j / 4], j % 4));
    }
    _mm512_store_ps(u[i].d, s.d);
    _mm512_store_ps(u[i].dmin, s.dmin);
  }
}

}  // namespace

void q4_k_q8_k_stored(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens >= kMinGemmTokens) {
    const auto fill = [&w](std::int64_t o0, int, std::int64_t b0, int nb, UnpackedBlock* u) {
      fill_tile_from_panel(w, o0, b0, nb, u);
    };
    gemm_tiles<32, true>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end, fill);
    return;
  }
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
    const BlockQ8_K* xs[4];
    const std::int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
    for (std::int64_t t = 0; t < nt; ++t)
      xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes);
    float* yt = y + t0 * y_stride;
    switch (nt) {
      case 1: panel_rows_tokens<1>(w, xs, yt, y_stride, row_begin, row_end); break;
      case 2: panel_rows_tokens<2>(w, xs, yt, y_stride, row_begin, row_end); break;
      case 3: panel_rows_tokens<3>(w, xs, yt, y_stride, row_begin, row_end); break;
      default: panel_rows_tokens<4>(w, xs, yt, y_stride, row_begin, row_end); break;
    }
  }
}

// Rows [row_begin, row_end) (row_begin a multiple of 16) of w into StoredQ4KPanel at `out`: one
// 16x16-byte transpose for the header words, eight for the codes.
void q4_k_pack_panels(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t nb = w.n_in / kQK_K;
  for (std::int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int n_valid = static_cast<int>(w.n_out - r0 < kPanelRows ? w.n_out - r0 : kPanelRows);
    const PanelRows rows(w.row(r0), w.row_bytes, n_valid, nb);
    const StoredQ4KPanel panel(out, w.row_bytes, r0 / kPanelRows);
    for (std::int64_t b = 0; b < nb; ++b) {
      auto* blk = const_cast<std::uint8_t*>(panel.block(b));
      for (int j = 0; j < 9; ++j) {  // 16-byte pieces of the block: header, then qs
        __m512i q[4];
        transpose_16x4(rows.row, b * static_cast<std::int64_t>(sizeof(BlockQ4_K)) + 16 * j, q);
        for (int i = 0; i < 4; ++i) _mm512_storeu_si512(blk + (4 * j + i) * 64, q[i]);
      }
    }
  }
}

}  // namespace autarky::avx512
