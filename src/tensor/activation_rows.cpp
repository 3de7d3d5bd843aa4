// The 8-bit formats that hold activations for the dot-product kernels: Q8_0 (fast path), Q8_1
// (Q4_1 / Q5_1 kernels) and Q8_K. Activations are quantized on every matmul, so these use a
// single max-abs scale instead of the scale search used for weights. The codes are those
// llama.cpp's CPU backend computes (its x86 build, our reference for logits), so that the same
// rounding decisions are taken: Q8_0/Q8_1 multiply by 127 / max|x| (not by the inverse of the
// fp16-rounded stored scale), Q8_1's s is fp16(max|x| / 127 * sum(q)), Q8_K maps the value of
// largest magnitude to -127 and stores d = 1 / (-127 / that value); codes round to nearest even.
// Matching them lowered the golden tiny-llama models' mean KL against llama.cpp (AVX-512
// kernels) from 4.2e-4 to 1.5e-4 (Q8_0), 1.3e-3 to 3.0e-4 (Q4_K_M), 1.3e-3 to 4.3e-6 (Q5_K_M)
// and 4.2e-4 to 1.9e-4 (Q4_1); the rest comes from codes on the other side of a rounding
// boundary after float sums taken in another order, which each such model amplifies differently
// (bench/KERNELS-LOG.md, session 15).

#include <algorithm>
#include <cmath>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quant_rows.h"
#include "tensor/quant_search.h"

namespace autarky::rows {
namespace {

using quant::round_clamped;

// Signed value of largest magnitude among x[0..n).
float signed_absmax(const float* x, int n) {
  float amax = 0, xmax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), xmax = x[i];
  }
  return xmax;
}

// Symmetric 8-bit codes of a Q8_0/Q8_1 block with a max-abs fp16 scale; returns the stored scale
// and sets `scale` to the scale before fp16 rounding (amax / 127, at most 65504).
std::uint16_t quantize_block_int8(const float* x, std::int8_t* qs, float& scale) {
  float amax = 0;
  for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  scale = std::min(amax / 127.0f, 65504.0f);
  const std::uint16_t d = float_to_fp16(scale);
  // A block with an infinite value keeps finite codes: the inverse of the largest stored scale.
  const float inv = !(amax > 0) ? 0.0f : amax <= 3.4028234663852886e38f ? 127.0f / amax : 1.0f / 65504.0f;
  for (int i = 0; i < kQK; ++i) qs[i] = static_cast<std::int8_t>(round_clamped(x[i] * inv, -127, 127));
  return d;
}

}  // namespace

void q8_0_from_float_fast(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  float scale;
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) blocks[b].d = quantize_block_int8(src, blocks[b].qs, scale);
}

void q8_1_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(blocks[b].qs[i]) * d;
  }
}

// s is the unrounded scale times the code sum, rounded once to fp16, as llama.cpp's CPU backend
// stores it: the Q4_1 / Q5_1 dot products take their min term m_w * s from it, so the same value
// (not d_a * sum in float) is what matches its results.
void q8_1_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    BlockQ8_1& blk = blocks[b];
    float scale;
    blk.d = quantize_block_int8(src, blk.qs, scale);
    int sum = 0;
    for (int i = 0; i < kQK; ++i) sum += blk.qs[i];
    blk.s = float_to_fp16(std::clamp(scale * static_cast<float>(sum), -65504.0f, 65504.0f));
  }
}

void q8_k_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(src);
  for (std::int64_t b = 0; b < n / kQK_K; ++b, dst += kQK_K) {
    for (int i = 0; i < kQK_K; ++i) dst[i] = blocks[b].d * static_cast<float>(blocks[b].qs[i]);
  }
}

void q8_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ8_K& blk = blocks[b];
    const float xmax = signed_absmax(src, kQK_K);
    if (xmax == 0 || !std::isfinite(xmax)) {
      blk.d = 0;
      std::fill(std::begin(blk.qs), std::end(blk.qs), 0);
    } else {
      const float inv = -127.0f / xmax;
      for (int i = 0; i < kQK_K; ++i) blk.qs[i] = static_cast<std::int8_t>(round_clamped(src[i] * inv, -128, 127));
      blk.d = 1.0f / inv;
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int i = 16 * j; i < 16 * (j + 1); ++i) sum += blk.qs[i];
      blk.bsums[j] = static_cast<std::int16_t>(sum);
    }
  }
}

}  // namespace autarky::rows
