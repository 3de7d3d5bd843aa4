// F16, BF16 and F32 weights against F32 activations: each weight vector is widened to F32 once
// (vcvtph2ps; a 16-bit shift for BF16) and reused for every token of the tile, then FMA. Where
// the CPU has AVX512_BF16, BF16 weights meet BF16 activations in vdpbf16ps instead (two
// multiply-adds per lane and instruction; activations of BF16 weights are rounded to BF16 either
// way, see kernels/matmul.h). On Zen 4 it issues at about the FMA rate, so it doubles the
// arithmetic peak; an earlier host issued it at half the FMA rate (39 vs 51 GMAC/s per core).
//
// Micro-kernel: kRows weight rows x up to kTokens tokens of vector accumulators, reduced across
// lanes once at the end of the row. Tokens are processed in blocks whose activations fit in L2,
// so a thread's weight rows are read from memory only n_tokens / block times. Prompts of
// kPromptMinTokens or more go to the panel kernel (half_float_prompt_avx512.cpp), which gets the
// same results bit for bit (half_float_steps.h).
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

#include "kernels/x86_avx512/half_float_avx512.h"
#include "kernels/x86_avx512/half_float_steps.h"

namespace autarky::avx512 {

namespace {

constexpr int kRows = 4;
constexpr int kTokens = 6;  // 4 x 6 accumulators + 4 weight + 1 activation vectors fit in 32 registers

// y[t][o + r] = dot(row o + r, token t) for r < R, t < T, over n_in elements. With `ahead`
// (rows read once: decode), the next tile's rows, one contiguous range of R rows, are
// prefetched a share per step while this tile is multiplied, so the core keeps sequential
// cache-line reads in flight instead of waiting on R separate hardware-prefetcher streams.
template <typename Step, int R, int T>
void tile(const std::uint8_t* const* w, const std::uint8_t* const* x, std::int64_t n_in, float* const* y,
          std::int64_t o, const std::uint8_t* ahead, std::uint64_t ahead_share) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  std::int64_t i = 0;
  for (; i + Step::kWidth <= n_in; i += Step::kWidth) {
    if (ahead != nullptr) {
      for (std::uint64_t off = 0; off < ahead_share; off += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T1);
      ahead += ahead_share;
    }
    typename Step::Weights wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = Step::load_weights(w[r], i);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const auto xv = Step::load_x(x[t], i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = Step::multiply_add(acc[r][t], wv[r], xv);
    }
  }
  if (i < n_in) {  // rows whose length is not a multiple of the vector width
    const int n = static_cast<int>(n_in - i);
    typename Step::Weights wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Step::load_weights_tail(w[r], i, n);
    for (int t = 0; t < T; ++t) {
      const auto xv = Step::load_x_tail(x[t], i, n);
      for (int r = 0; r < R; ++r) acc[r][t] = Step::multiply_add(acc[r][t], wv[r], xv);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[t][o + r] = sum_lanes(acc[r][t]);
}

template <typename Step, int R>
void tile_tokens(int nt, const std::uint8_t* const* w, const std::uint8_t* const* x, std::int64_t n_in,
                 float* const* y, std::int64_t o, const std::uint8_t* ahead = nullptr, std::uint64_t ahead_share = 0) {
  switch (nt) {
    case 1: tile<Step, R, 1>(w, x, n_in, y, o, ahead, ahead_share); break;
    case 2: tile<Step, R, 2>(w, x, n_in, y, o, ahead, ahead_share); break;
    case 3: tile<Step, R, 3>(w, x, n_in, y, o, ahead, ahead_share); break;
    case 4: tile<Step, R, 4>(w, x, n_in, y, o, ahead, ahead_share); break;
    case 5: tile<Step, R, 5>(w, x, n_in, y, o, ahead, ahead_share); break;
    default: tile<Step, R, 6>(w, x, n_in, y, o, ahead, ahead_share); break;
  }
}

template <typename Step>
void rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
          std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  // Blocking: a block of tokens whose activations take ~512 KiB (L2) is multiplied with blocks
  // of weight rows of ~128 KiB (L2); inside, one tile of kTokens tokens (L1) meets every row
  // tile of the row block, so the micro-kernel's per-step loads are weights from L2 and
  // activations from L1.
  const std::uint64_t x_bytes = x_row_bytes ? x_row_bytes : 1, w_bytes = w.row_bytes ? w.row_bytes : 1;
  std::int64_t token_block = static_cast<std::int64_t>((512u << 10) / x_bytes);
  token_block = token_block < kTokens ? kTokens : token_block / kTokens * kTokens;
  std::int64_t row_block = static_cast<std::int64_t>((128u << 10) / w_bytes);
  row_block = row_block < kRows ? kRows : row_block / kRows * kRows;
  for (std::int64_t t_block = 0; t_block < n_tokens; t_block += token_block) {
    const std::int64_t t_end = t_block + token_block < n_tokens ? t_block + token_block : n_tokens;
    for (std::int64_t o_block = row_begin; o_block < row_end; o_block += row_block) {
      const std::int64_t o_end = o_block + row_block < row_end ? o_block + row_block : row_end;
      for (std::int64_t t0 = t_block; t0 < t_end; t0 += kTokens) {
        const int nt = static_cast<int>(t_end - t0 < kTokens ? t_end - t0 : kTokens);
        const std::uint8_t* xs[kTokens];
        float* ys[kTokens];
        for (int t = 0; t < nt; ++t) {
          xs[t] = x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes;
          ys[t] = y + (t0 + t) * y_stride;
        }
        for (std::int64_t o = o_block; o < o_end; o += kRows) {
          const int nr = static_cast<int>(o_end - o < kRows ? o_end - o : kRows);
          const std::uint8_t* wr[kRows];
          for (int r = 0; r < nr; ++r) wr[r] = w.data + static_cast<std::uint64_t>(o + r) * w.row_bytes;
          if (nr == kRows) {
            // Rows read once (all tokens in this tile) and the next tile is this thread's:
            // prefetch it, in whole cache lines spread over this tile's steps.
            const std::int64_t steps = w.n_in / Step::kWidth;
            const bool prefetch = n_tokens <= kTokens && steps > 0 && o + 2 * kRows <= row_end;
            const std::uint64_t share = prefetch ? ((kRows * w.row_bytes + steps - 1) / steps + 63) / 64 * 64 : 0;
            tile_tokens<Step, kRows>(nt, wr, xs, w.n_in, ys, o, prefetch ? wr[0] + kRows * w.row_bytes : nullptr, share);
          } else {
            for (int r = 0; r < nr; ++r) tile_tokens<Step, 1>(nt, wr + r, xs, w.n_in, ys, o + r);
          }
        }
      }
    }
  }
}

// Below this, widening and transposing the weights into panels costs more than it saves.
constexpr std::int64_t kPromptMinTokens = 32;

}  // namespace

void bf16_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
              float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens >= kPromptMinTokens && w.n_in > 0) return bf16_f32_prompt(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  rows<Bf16WidenStep>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void bf16_bf16(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens >= kPromptMinTokens && w.n_in > 0) return bf16_bf16_prompt(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  rows<Bf16DotStep>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

// float_to_bf16 (tensor/fp16.h) sixteen at a time: round to nearest even on the upper half; NaN
// becomes a quiet NaN. (vcvtneps2bf16 would flush denormals, which the reference keeps.)
void bf16_from_float(const float* x, void* out, std::int64_t n) {
  auto* dst = reinterpret_cast<std::uint16_t*>(out);
  std::int64_t i = 0;
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_loadu_si512(x + i);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
    const __m512i bits = _mm512_mask_or_epi32(rounded, nan, u, _mm512_set1_epi32(0x400000));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(_mm512_srli_epi32(bits, 16)));
  }
  for (; i < n; ++i) {
    std::uint32_t u;
    __builtin_memcpy(&u, x + i, sizeof u);
    dst[i] = static_cast<std::uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? (u | 0x400000u) >> 16
                                                                        : (u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

void f32_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
             std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  rows<F32Step>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

void f16_f32(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens, float* y,
             std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  if (n_tokens >= kPromptMinTokens && w.n_in > 0) return f16_f32_prompt(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
  rows<F16Step>(w, x, x_row_bytes, n_tokens, y, y_stride, row_begin, row_end);
}

}  // namespace autarky::avx512
