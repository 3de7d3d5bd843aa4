#include "tensor/quant_search.h"

#include <algorithm>

namespace autarky::quant {
namespace {

constexpr int kCandidateSteps = 10;     // candidates on each side of the obvious scale
constexpr float kCandidateStep = 0.1f;  // in units of one code step
constexpr int kMaxRefineIterations = 8;

// Codes for one candidate inverse scale plus the weighted least-squares scale for them, in a
// single pass. Returns the error reduction versus all-zero codes (sum_lx^2 / sum_ll), or a
// negative value when every code is zero.
double codes_and_gain(int n, const float* x, const float* w, float inv_scale, int qmin, int qmax, int* L, float& d) {
  double sum_lx = 0, sum_ll = 0;
  for (int i = 0; i < n; ++i) {
    const int l = round_clamped(x[i] * inv_scale, qmin, qmax);
    L[i] = l;
    sum_lx += static_cast<double>(w[i]) * x[i] * l;
    sum_ll += static_cast<double>(w[i]) * l * l;
  }
  if (sum_ll <= 0) return -1;
  d = static_cast<float>(sum_lx / sum_ll);
  return sum_lx * sum_lx / sum_ll;
}

}  // namespace

void default_importance(int n, const float* x, float* w) {
  double sum_sq = 0;
  for (int i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float sigma2 = static_cast<float>(sum_sq / n);
  for (int i = 0; i < n; ++i) w[i] = sigma2 + x[i] * x[i];
}

float fit_scale(int n, const float* x, const float* w, int qmin, int qmax, int* L) {
  float amax = 0, xmax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), xmax = x[i];
  }
  std::fill(L, L + n, 0);
  if (!(amax > 0) || !std::isfinite(amax)) return 0.0f;

  int candidate[256];
  double best_gain = -1;
  float best_d = 0;
  // Map the largest-magnitude weight to either end of the code range, then nudge.
  for (int target : {qmin, qmax}) {
    // A symmetric range gives the same fits mirrored for both ends: search one of them.
    if (target == 0 || (target == qmax && qmin == -qmax)) continue;
    for (int k = -kCandidateSteps; k <= kCandidateSteps; ++k) {
      const float magnitude = static_cast<float>(std::abs(target)) + k * kCandidateStep;
      if (magnitude <= 0) continue;
      const float inv_scale = (target < 0 ? -magnitude : magnitude) / xmax;
      float d = 0;  // set by codes_and_gain; initialised for GCC's aarch64 flow analysis
      const double gain = codes_and_gain(n, x, w, inv_scale, qmin, qmax, candidate, d);
      if (gain > best_gain) {
        best_gain = gain, best_d = d;
        std::copy(candidate, candidate + n, L);
      }
    }
  }
  if (best_gain < 0) return 0.0f;
  for (int it = 0; it < kMaxRefineIterations && best_d != 0; ++it) {
    float d = 0;
    const double gain = codes_and_gain(n, x, w, 1.0f / best_d, qmin, qmax, candidate, d);
    if (gain <= best_gain) break;
    best_gain = gain, best_d = d;
    std::copy(candidate, candidate + n, L);
  }
  return best_d;
}

namespace {

struct AffineFit {
  float d = 0, m = 0, err = 0;
};

// Codes for one candidate (inverse scale, origin) and the weighted least-squares d, m for
// them, in one pass; the error follows from the accumulated moments.
AffineFit codes_and_affine_fit(int n, const float* x, const float* w, float inv_scale, float origin, int qmax,
                               bool offset_nonpositive, int* L) {
  double sw = 0, sl = 0, sll = 0, sx = 0, slx = 0, sxx = 0;
  for (int i = 0; i < n; ++i) {
    const int l = round_clamped((x[i] - origin) * inv_scale, 0, qmax);
    L[i] = l;
    const double wi = w[i], wl = wi * l, wx = wi * x[i];
    sw += wi, sl += wl, sll += wl * l, sx += wx, slx += wl * x[i], sxx += wx * x[i];
  }
  double d = 0, m = 0;
  const double det = sw * sll - sl * sl;
  if (det > 0) {
    d = (sw * slx - sl * sx) / det;
    m = (sll * sx - sl * slx) / det;
  } else {
    m = sw > 0 ? sx / sw : 0.0;  // all codes equal: only an offset
  }
  if (offset_nonpositive && m > 0) {
    m = 0;
    d = sll > 0 ? slx / sll : 0.0;
  }
  AffineFit f;
  f.d = static_cast<float>(d), f.m = static_cast<float>(m);
  // sum w (d L + m - x)^2 expanded; clamp tiny negative rounding residue.
  const double err = sxx + d * d * sll + m * m * sw + 2 * (d * m * sl - d * slx - m * sx);
  f.err = static_cast<float>(std::max(err, 0.0));
  return f;
}

}  // namespace

void fit_scale_offset(int n, const float* x, const float* w, int qmax, bool offset_nonpositive, int* L, float& d,
                      float& m) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  if (offset_nonpositive) lo = std::min(lo, 0.0f);
  std::fill(L, L + n, 0);
  d = 0, m = lo;
  if (!(hi > lo) || !std::isfinite(hi - lo)) {
    if (!std::isfinite(m)) m = 0;
    return;
  }

  int candidate[256];
  AffineFit best;
  best.err = -1;
  const float range = hi - lo;
  for (int k = -kCandidateSteps; k <= kCandidateSteps; ++k) {
    const float inv_scale = (static_cast<float>(qmax) + k * kCandidateStep) / range;
    if (inv_scale <= 0) continue;
    const AffineFit f = codes_and_affine_fit(n, x, w, inv_scale, lo, qmax, offset_nonpositive, candidate);
    if (best.err < 0 || f.err < best.err) {
      best = f;
      std::copy(candidate, candidate + n, L);
    }
  }
  for (int it = 0; it < kMaxRefineIterations && best.d > 0; ++it) {
    const AffineFit f = codes_and_affine_fit(n, x, w, 1.0f / best.d, best.m, qmax, offset_nonpositive, candidate);
    if (f.err >= best.err) break;
    best = f;
    std::copy(candidate, candidate + n, L);
  }
  d = best.d, m = best.m;
}

}  // namespace autarky::quant
