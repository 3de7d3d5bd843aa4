#include "kernels/ref/ops_ref.h"

#include <algorithm>
#include <cmath>

namespace autarky::ref {

void rmsnorm(const float* x, const float* weight, std::int64_t n, float eps, float* out) {
  double sum_sq = 0.0;  // double: the mean of squares over thousands of values loses bits in float
  for (std::int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum_sq / static_cast<double>(n)) + eps);
  for (std::int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void softmax(float* x, std::int64_t n) {
  if (n <= 0) return;
  float max_v = *std::max_element(x, x + n);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_v);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(float* gate, const float* up, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add(float* x, const float* b, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] += b[i];
}

void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t pos, const RopeParams& p) {
  const std::int64_t half = p.n_rot / 2;
  const float fpos = static_cast<float>(pos);
  for (std::int64_t i = 0; i < half; ++i) {
    const float theta = fpos * p.inv_freq[static_cast<std::size_t>(i)];
    const float c = std::cos(theta), s = std::sin(theta);
    // The two elements of pair i: adjacent, or i and i + n_rot/2.
    const std::int64_t a = p.style == RopeStyle::kNormal ? 2 * i : i;
    const std::int64_t b = p.style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
    for (std::int64_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x0 * s + x1 * c;
    }
  }
}

}  // namespace autarky::ref
