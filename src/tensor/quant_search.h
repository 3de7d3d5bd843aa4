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

#include <cmath>
#include <cstdint>

namespace autarky::quant {

// Round half away from zero to an int; inputs are small (already scaled and clamped).
inline int round_to_int(float v) { return static_cast<int>(std::lround(v)); }
inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

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
