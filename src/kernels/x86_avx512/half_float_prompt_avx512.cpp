// F16 and BF16 weights against F32 activations, and BF16 weights against BF16 activations
// (vdpbf16ps, a pair of inputs per lane and step), for prompts: the same results, bit for bit, as
// the per-token kernel (half_float_avx512.cpp), at a higher fraction of the arithmetic peak.
//
// The per-token kernel puts inputs along the lanes: every FMA needs a weight vector and an
// activation vector, each used by only 4-6 FMAs, so it waits on L2 rather than on the FMA units.
// Here panels of 32 weight rows are widened to F32 and transposed so that lanes are output rows
// (once per block of up to a few hundred tokens); activations are broadcast one float at a time, and a weight vector serves 12
// tokens. To keep the per-token kernel's order (half_float_steps.h), an output is not one chain
// over all inputs but 16: the panel is stored by input residue j = input % 16, the micro-kernel
// runs the chain of residue j (inputs j, j + 16, ...) for all rows and tokens, keeps its 16
// results, and adds them in sum_lanes' tree. Activations are packed by residue too, once per
// block of tokens, so the broadcasts read one contiguous stream.
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

#include "kernels/scratch.h"
#include "kernels/x86_avx512/half_float_avx512.h"
#include "kernels/x86_avx512/half_float_steps.h"

namespace autarky::avx512 {

namespace {

constexpr int kPanelRows = 32;    // two vectors of output rows
constexpr int kTileTokens = 12;   // 12 x 2 accumulators + 2 weight vectors + 1 broadcast of 32 registers
constexpr std::uint64_t kPackedTokenBytes = 4u << 20;  // packed activations per token block (per thread)

// 16 x 16 floats: out[i] lane j = in[j] lane i.
void transpose16(__m512 r[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {  // pairs of rows interleaved within 128-bit lanes
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int j = 0; j < 4; ++j) {  // b[4j + e], 128-bit lane L: rows 4j..4j+3 at element 4L + e
    const __m512d a0 = _mm512_castps_pd(a[4 * j]), a1 = _mm512_castps_pd(a[4 * j + 1]);
    const __m512d a2 = _mm512_castps_pd(a[4 * j + 2]), a3 = _mm512_castps_pd(a[4 * j + 3]);
    b[4 * j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    b[4 * j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    b[4 * j + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    b[4 * j + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
  for (int e = 0; e < 4; ++e) {  // element 4L + e gathers lane L of b[e], b[4 + e], b[8 + e], b[12 + e]
    const __m512 c0 = _mm512_shuffle_f32x4(b[e], b[4 + e], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 c1 = _mm512_shuffle_f32x4(b[e], b[4 + e], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 d0 = _mm512_shuffle_f32x4(b[8 + e], b[12 + e], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 d1 = _mm512_shuffle_f32x4(b[8 + e], b[12 + e], _MM_SHUFFLE(3, 2, 3, 2));
    r[e] = _mm512_shuffle_f32x4(c0, d0, _MM_SHUFFLE(2, 0, 2, 0));
    r[4 + e] = _mm512_shuffle_f32x4(c0, d0, _MM_SHUFFLE(3, 1, 3, 1));
    r[8 + e] = _mm512_shuffle_f32x4(c1, d1, _MM_SHUFFLE(2, 0, 2, 0));
    r[12 + e] = _mm512_shuffle_f32x4(c1, d1, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// Lane j of the per-token kernel takes, at step s, input Step::kWidth * s + j, or with kPairs
// the pair of inputs 32 s + 2 j and 32 s + 2 j + 1: residue j's chain. With single inputs,
// residues below n_in % 16 have one step more (the per-token kernel's masked last step adds 0 * 0
// in the others); with pairs every chain has n_steps steps, those past n_in multiplying zeros.
template <typename Step>
struct Residues {
  std::int64_t n_in, n_steps, tail;
  explicit Residues(std::int64_t n)
      : n_in(n), n_steps((n + Step::kWidth - 1) / Step::kWidth), tail(Step::kPairs ? 0 : n % 16) {}
  std::int64_t steps(int j) const { return tail == 0 || j < tail ? n_steps : n_steps - 1; }
};

// panel[(j * n_steps + s) * 32 + r] = weight (row o + r, input or pair j of step s): an F32, or two
// BF16 in one 32-bit element; rows at or past `rows` and inputs past n_in are 0.
template <typename Step>
void pack_panel(const WeightMatrix& w, std::int64_t o, int rows, const Residues<Step>& res, float* panel) {
  for (int half = 0; half < kPanelRows / 16; ++half) {
    for (std::int64_t s = 0; s < res.n_steps; ++s) {
      const std::int64_t i = Step::kWidth * s;
      const int n = static_cast<int>(w.n_in - i < Step::kWidth ? w.n_in - i : Step::kWidth);
      __m512 r[16];
      for (int k = 0; k < 16; ++k) {
        const int row = half * 16 + k;
        if (row >= rows) {
          r[k] = _mm512_setzero_ps();
          continue;
        }
        const std::uint8_t* src = w.data + static_cast<std::uint64_t>(o + row) * w.row_bytes;
        r[k] = Step::bits(n == Step::kWidth ? Step::load_weights(src, i) : Step::load_weights_tail(src, i, n));
      }
      transpose16(r);  // r[j] lane k = element j of row half * 16 + k (moves only: bits are kept)
      for (int j = 0; j < 16; ++j) _mm512_store_ps(panel + ((j * res.n_steps + s) * kPanelRows + half * 16), r[j]);
    }
  }
}

// xp[(j * n_steps + s) * kTileTokens + t] = activation (token t0 + t, input or pair j of step s),
// t < nt, as the panel holds weights (pairs: two BF16 in the bits of one float, zero past n_in).
template <typename Step>
void pack_tokens(const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t t0, int nt,
                 const Residues<Step>& res, float* xp) {
  for (int t = 0; t < nt; ++t) {
    const std::uint8_t* row = x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes;
    for (std::int64_t s = 0; s < res.n_steps; ++s) {
      const std::int64_t i = Step::kWidth * s;
      if constexpr (Step::kPairs) {
        const auto* halves = reinterpret_cast<const std::uint16_t*>(row);
        for (int j = 0; j < 16; ++j) {
          const std::int64_t a = i + 2 * j;
          const std::uint32_t lo = a < res.n_in ? halves[a] : 0, hi = a + 1 < res.n_in ? halves[a + 1] : 0;
          xp[(j * res.n_steps + s) * kTileTokens + t] = __builtin_bit_cast(float, lo | hi << 16);
        }
      } else {
        const auto* floats = reinterpret_cast<const float*>(row);
        const int n = static_cast<int>(res.n_in - i < 16 ? res.n_in - i : 16);
        for (int j = 0; j < n; ++j) xp[(j * res.n_steps + s) * kTileTokens + t] = floats[i + j];
      }
    }
  }
}

// y[t][o + r] for T tokens and the panel's rows (masks m[0], m[1]): residue by residue, the
// chain of the per-token kernel's lane j, then its tree over the 16 lanes.
template <typename Step, int T>
void panel_tokens(const float* panel, const float* xp, const Residues<Step>& res, float* const* y, std::int64_t o,
                  const __mmask16* m) {
  __m512 part[2][T][16];  // [row vector][token][residue]
  for (int j = 0; j < 16; ++j) {
    __m512 acc[2][T];
#pragma GCC unroll 12
    for (int t = 0; t < T; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
    const float* pw = panel + j * res.n_steps * kPanelRows;
    const float* px = xp + j * res.n_steps * kTileTokens;
    const std::int64_t steps = res.steps(j);
    for (std::int64_t s = 0; s < steps; ++s, pw += kPanelRows, px += kTileTokens) {
      const __m512 w0 = _mm512_load_ps(pw), w1 = _mm512_load_ps(pw + 16);
#pragma GCC unroll 12
      for (int t = 0; t < T; ++t) {
        const __m512 xv = _mm512_set1_ps(px[t]);
        acc[0][t] = Step::multiply_add(acc[0][t], w0, xv);  // the per-token kernel's step
        acc[1][t] = Step::multiply_add(acc[1][t], w1, xv);
      }
    }
    if (steps < res.n_steps) {  // the per-token kernel's masked last step adds 0 * 0 in this lane
#pragma GCC unroll 12
      for (int t = 0; t < T; ++t) {
        acc[0][t] = _mm512_add_ps(acc[0][t], _mm512_setzero_ps());
        acc[1][t] = _mm512_add_ps(acc[1][t], _mm512_setzero_ps());
      }
    }
#pragma GCC unroll 12
    for (int t = 0; t < T; ++t) {
      part[0][t][j] = acc[0][t];
      part[1][t][j] = acc[1][t];
    }
  }
  for (int t = 0; t < T; ++t)
    for (int v = 0; v < 2; ++v) _mm512_mask_storeu_ps(y[t] + o + 16 * v, m[v], sum_lane_vectors(part[v][t]));
}

template <typename Step>
void panel_token_tail(int nt, const float* panel, const float* xp, const Residues<Step>& res, float* const* y,
                      std::int64_t o, const __mmask16* m) {
  switch (nt) {
    case 1: panel_tokens<Step, 1>(panel, xp, res, y, o, m); break;
    case 2: panel_tokens<Step, 2>(panel, xp, res, y, o, m); break;
    case 3: panel_tokens<Step, 3>(panel, xp, res, y, o, m); break;
    case 4: panel_tokens<Step, 4>(panel, xp, res, y, o, m); break;
    case 5: panel_tokens<Step, 5>(panel, xp, res, y, o, m); break;
    case 6: panel_tokens<Step, 6>(panel, xp, res, y, o, m); break;
    case 7: panel_tokens<Step, 7>(panel, xp, res, y, o, m); break;
    case 8: panel_tokens<Step, 8>(panel, xp, res, y, o, m); break;
    case 9: panel_tokens<Step, 9>(panel, xp, res, y, o, m); break;
    case 10: panel_tokens<Step, 10>(panel, xp, res, y, o, m); break;
    default: panel_tokens<Step, 11>(panel, xp, res, y, o, m); break;
  }
}

// Token blocks whose packed activations fit kPackedTokenBytes (streamed from L3, a tile at a time
// through L1); for each, every panel of the thread's rows is packed once (L2) and meets all the
// block's token tiles.
template <typename Step>
void prompt_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const Residues<Step> res(w.n_in);
  const std::int64_t panel_floats = 16 * res.n_steps * kPanelRows;
  const std::int64_t tile_floats = 16 * res.n_steps * kTileTokens;
  std::int64_t block_tiles = static_cast<std::int64_t>(kPackedTokenBytes / (tile_floats * sizeof(float)));
  if (block_tiles < 1) block_tiles = 1;
  const std::int64_t n_tiles = (n_tokens + kTileTokens - 1) / kTileTokens;
  if (block_tiles > n_tiles) block_tiles = n_tiles;
  float* panel = reinterpret_cast<float*>(kernels::thread_scratch(
      kernels::ScratchSlot::kPanel, static_cast<std::size_t>(panel_floats + block_tiles * tile_floats) * sizeof(float)));
  float* xp = panel + panel_floats;
  for (std::int64_t tile0 = 0; tile0 < n_tiles; tile0 += block_tiles) {
    const std::int64_t tiles = n_tiles - tile0 < block_tiles ? n_tiles - tile0 : block_tiles;
    for (std::int64_t k = 0; k < tiles; ++k) {
      const std::int64_t t0 = (tile0 + k) * kTileTokens;
      const int nt = static_cast<int>(n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens);
      pack_tokens<Step>(x, x_row_bytes, t0, nt, res, xp + k * tile_floats);
    }
    for (std::int64_t o = row_begin; o < row_end; o += kPanelRows) {
      const int rows = static_cast<int>(row_end - o < kPanelRows ? row_end - o : kPanelRows);
      const __mmask16 masks[2] = {static_cast<__mmask16>(rows >= 16 ? 0xffffu : (1u << rows) - 1),
                                  static_cast<__mmask16>(rows >= 32 ? 0xffffu : rows > 16 ? (1u << (rows - 16)) - 1 : 0)};
      pack_panel<Step>(w, o, rows, res, panel);
      for (std::int64_t k = 0; k < tiles; ++k) {
        const std::int64_t t0 = (tile0 + k) * kTileTokens;
        const int nt = static_cast<int>(n_tokens - t0 < kTileTokens ? n_tokens - t0 : kTileTokens);
        float* ys[kTileTokens];
        for (int t = 0; t < nt; ++t) ys[t] = y + (t0 + t) * y_stride;
        if (nt == kTileTokens) {
          panel_tokens<Step, kTileTokens>(panel, xp + k * tile_floats, res, ys, o, masks);
        } else {
          panel_token_tail<Step>(nt, panel, xp + k * tile_floats, res, ys, o, masks);
        }
      }
    }
  }
}

}  // namespace

void bf16_f32_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  prompt_rows<Bf16WidenStep>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void bf16_bf16_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                      float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  prompt_rows<Bf16DotStep>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void f16_f32_prompt(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  prompt_rows<F16Step>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx512
