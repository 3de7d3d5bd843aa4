#pragma once
// Scale search shared by the quantizers: given a small group of weights x and per-weight
// importances w, find integer codes L and a scale (and offset) minimising
// sum_i w_i * (x_i - (d * L_i + m))^2. Used for blocks, sub-blocks and for the sub-block scales
// of K-quants themselves.
//
// Both searches try a fan of candidate scales around the obvious "largest value maps to the
// largest code" choice, keep the one with the least weighted error, and then alternate
// "best codes for this scale" (rounding) with "best scale for these codes" (least squares)
// until nothing changes. Each alternation step can only lower the error.

#include <bit>
#include <cmath>
#include <cstdint>

namespace autarky::quant {

// Nearest integer code in [lo, hi] (ties to even). Clamping first keeps the value small, so the
// classic 1.5 * 2^23 trick rounds it exactly and without a float->int conversion that could
// overflow on huge inputs; it is also much faster than std::lround in the search loops.
inline int round_clamped(float v, int lo, int hi) {
  const float clamped = v < static_cast<float>(lo) ? static_cast<float>(lo) : (v > static_cast<float>(hi) ? static_cast<float>(hi) : v);
  const float shifted = clamped + 12582912.0f;  // 1.5 * 2^23: the integer lands in the low mantissa bits
  return static_cast<int>(std::bit_cast<std::int32_t>(shifted) & 0x7fffff) - 0x400000;
}

// x ~= d * L with L in [qmin, qmax] (qmin <= 0 <= qmax). Writes L, returns d (0 and L = 0 when
// the group is all zero). d may be negative: for asymmetric code ranges such as [-4, 3] mapping
// the largest magnitude to the negative end can be the better fit.
float fit_scale(int n, const float* x, const float* w, int qmin, int qmax, int* L);

// x ~= d * L + m with L in [0, qmax]. With offset_nonpositive the offset is kept <= 0 (K-quants
// store it as a non-negative "min" that is subtracted). Writes L, d and m.
void fit_scale_offset(int n, const float* x, const float* w, int qmax, bool offset_nonpositive, int* L, float& d,
                      float& m);

// Importance of each weight when no activation statistics are available: sigma^2 + x_i^2 over
// the group, so large weights (which dominate dot products) are fitted more closely while small
// ones still count.
void default_importance(int n, const float* x, float* w);

}  // namespace autarky::quant
