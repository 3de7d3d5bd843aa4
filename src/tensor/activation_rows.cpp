// The 8-bit formats that hold activations for the dot-product kernels: Q8_0 (fast path), Q8_1
// and Q8_K. Activations are quantized on every matmul, so these use a single max-abs scale
// instead of the scale search used for weights. Mapping the largest-magnitude value to -128
// (rather than +-127) uses the whole int8 range: values of the other sign reach at most +127.

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

// Symmetric 8-bit codes of a Q8_0/Q8_1 block with a max-abs fp16 scale; returns the stored scale.
std::uint16_t quantize_block_int8(const float* x, std::int8_t* qs) {
  float amax = 0;
  for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  const std::uint16_t d = float_to_fp16(std::min(amax / 127.0f, 65504.0f));
  const float stored = fp16_to_float(d);
  const float inv = stored > 0 ? 1.0f / stored : 0.0f;
  for (int i = 0; i < kQK; ++i) qs[i] = static_cast<std::int8_t>(round_clamped(x[i] * inv, -127, 127));
  return d;
}

}  // namespace

void q8_0_from_float_fast(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) blocks[b].d = quantize_block_int8(src, blocks[b].qs);
}

void q8_1_to_float(const void* src, float* dst, std::int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (std::int64_t b = 0; b < n / kQK; ++b, dst += kQK) {
    const float d = fp16_to_float(blocks[b].d);
    for (int i = 0; i < kQK; ++i) dst[i] = static_cast<float>(blocks[b].qs[i]) * d;
  }
}

void q8_1_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK) {
    BlockQ8_1& blk = blocks[b];
    blk.d = quantize_block_int8(src, blk.qs);
    int sum = 0;
    for (int i = 0; i < kQK; ++i) sum += blk.qs[i];
    blk.s = float_to_fp16(std::clamp(fp16_to_float(blk.d) * static_cast<float>(sum), -65504.0f, 65504.0f));
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
      const float inv = -128.0f / xmax;
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
