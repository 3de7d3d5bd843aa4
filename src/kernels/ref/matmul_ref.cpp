#include "kernels/ref/matmul_ref.h"

#include <vector>

#include "base/error.h"
#include "tensor/type_traits.h"

namespace autarky::ref {

float dot_f32(const float* a, const float* b, std::int64_t n) {
  // Independent partial sums let the compiler keep several vector accumulators in flight while
  // staying deterministic (the summation order does not depend on threads or data).
  constexpr int kLanes = 16;
  float partial[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) partial[l] += a[i + l] * b[i + l];
  }
  for (; i < n; ++i) partial[i % kLanes] += a[i] * b[i];
  float sum = 0.0f;
  for (int l = 0; l < kLanes; ++l) sum += partial[l];
  return sum;
}

void matmul_rows(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y, std::int64_t y_stride,
                 std::int64_t row_begin, std::int64_t row_end) {
  const ToFloatFn to_float = type_traits(w.type).to_float;
  AUTARKY_ASSERT(to_float != nullptr, "no dequantizer for {}", dtype_name(w.type));
  std::vector<float> row(static_cast<std::size_t>(w.n_in));  // one dequantized weight row
  for (std::int64_t o = row_begin; o < row_end; ++o) {
    to_float(w.row(o), row.data(), w.n_in);
    for (std::int64_t t = 0; t < n_tokens; ++t) y[t * y_stride + o] = dot_f32(row.data(), x + t * w.n_in, w.n_in);
  }
}

}  // namespace autarky::ref
