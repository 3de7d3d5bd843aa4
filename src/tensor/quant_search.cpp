#include "tensor/quant_search.h"

#include <algorithm>

namespace autarky::quant {
namespace {

constexpr int kCandidateSteps = 10;     // candidates on each side of the obvious scale
constexpr float kCandidateStep = 0.1f;  // in units of one code step
constexpr int kMaxRefineIterations = 8;

// Weighted least-squares scale for fixed codes; returns false when all codes are zero.
bool best_scale_for_codes(int n, const float* x, const float* w, const int* L, float& d, float& gain) {
  double sum_lx = 0, sum_ll = 0;
  for (int i = 0; i < n; ++i) {
    sum_lx += static_cast<double>(w[i]) * x[i] * L[i];
    sum_ll += static_cast<double>(w[i]) * L[i] * L[i];
  }
  if (sum_ll <= 0) return false;
  d = static_cast<float>(sum_lx / sum_ll);
  gain = static_cast<float>(sum_lx * sum_lx / sum_ll);  // error reduction vs all-zero codes
  return true;
}

void codes_for_scale(int n, const float* x, float inv_scale, int qmin, int qmax, int* L) {
  for (int i = 0; i < n; ++i) L[i] = round_clamped(x[i] * inv_scale, qmin, qmax);
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
  float best_gain = -1, best_d = 0;
  // Map the largest-magnitude weight to either end of the code range, then nudge.
  for (int target : {qmin, qmax}) {
    if (target == 0) continue;
    for (int k = -kCandidateSteps; k <= kCandidateSteps; ++k) {
      const float magnitude = static_cast<float>(std::abs(target)) + k * kCandidateStep;
      if (magnitude <= 0) continue;
      const float inv_scale = (target < 0 ? -magnitude : magnitude) / xmax;
      codes_for_scale(n, x, inv_scale, qmin, qmax, candidate);
      float d, gain;
      if (best_scale_for_codes(n, x, w, candidate, d, gain) && gain > best_gain) {
        best_gain = gain, best_d = d;
        std::copy(candidate, candidate + n, L);
      }
    }
  }
  if (best_gain < 0) return 0.0f;
  for (int it = 0; it < kMaxRefineIterations && best_d != 0; ++it) {
    codes_for_scale(n, x, 1.0f / best_d, qmin, qmax, candidate);
    if (std::equal(candidate, candidate + n, L)) break;
    float d, gain;
    if (!best_scale_for_codes(n, x, w, candidate, d, gain) || gain <= best_gain) break;
    best_gain = gain, best_d = d;
    std::copy(candidate, candidate + n, L);
  }
  return best_d;
}

namespace {

struct AffineFit {
  float d = 0, m = 0, err = 0;
};

// Weighted least squares for x ~= d * L + m with the codes fixed.
AffineFit solve_affine(int n, const float* x, const float* w, const int* L, bool offset_nonpositive) {
  double sw = 0, sl = 0, sll = 0, sx = 0, slx = 0;
  for (int i = 0; i < n; ++i) {
    sw += w[i], sl += static_cast<double>(w[i]) * L[i], sll += static_cast<double>(w[i]) * L[i] * L[i];
    sx += static_cast<double>(w[i]) * x[i], slx += static_cast<double>(w[i]) * L[i] * x[i];
  }
  AffineFit f;
  const double det = sw * sll - sl * sl;
  if (det > 0) {
    f.d = static_cast<float>((sw * slx - sl * sx) / det);
    f.m = static_cast<float>((sll * sx - sl * slx) / det);
  } else {
    f.m = sw > 0 ? static_cast<float>(sx / sw) : 0.0f;  // all codes equal: only an offset
  }
  if (offset_nonpositive && f.m > 0) {
    f.m = 0;
    f.d = sll > 0 ? static_cast<float>(slx / sll) : 0.0f;
  }
  double err = 0;
  for (int i = 0; i < n; ++i) {
    const double diff = f.d * L[i] + f.m - x[i];
    err += w[i] * diff * diff;
  }
  f.err = static_cast<float>(err);
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
    for (int i = 0; i < n; ++i) candidate[i] = round_clamped((x[i] - lo) * inv_scale, 0, qmax);
    const AffineFit f = solve_affine(n, x, w, candidate, offset_nonpositive);
    if (best.err < 0 || f.err < best.err) {
      best = f;
      std::copy(candidate, candidate + n, L);
    }
  }
  for (int it = 0; it < kMaxRefineIterations && best.d > 0; ++it) {
    const float inv = 1.0f / best.d;
    for (int i = 0; i < n; ++i) candidate[i] = round_clamped((x[i] - best.m) * inv, 0, qmax);
    if (std::equal(candidate, candidate + n, L)) break;
    const AffineFit f = solve_affine(n, x, w, candidate, offset_nonpositive);
    if (f.err >= best.err) break;
    best = f;
    std::copy(candidate, candidate + n, L);
  }
  d = best.d, m = best.m;
}

}  // namespace autarky::quant
