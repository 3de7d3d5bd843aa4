#include "kernels/ref/matmul_ref.h"

#include <cstring>
#include <vector>

#include "base/error.h"
#include "tensor/type_traits.h"

namespace autarky::ref {

namespace {
// Eight floats; GCC and Clang lower the arithmetic to whatever vector width the target has.
using F32x8 = float __attribute__((vector_size(32)));

// Accumulates a[0..8) * b[0..8) into acc. Vectors are passed by reference: passing them by
// value would depend on the target's vector ABI (-Wpsabi).
inline void multiply_add8(F32x8& acc, const float* a, const float* b) {
  F32x8 va, vb;
  std::memcpy(&va, a, sizeof va);  // unaligned loads without aliasing tricks
  std::memcpy(&vb, b, sizeof vb);
  acc += va * vb;
}
}  // namespace

float dot_f32(const float* a, const float* b, std::int64_t n) {
  // Sixteen independent partial sums (lane l accumulates elements i with i % 16 == l), so the
  // summation order is fixed -- deterministic for any thread count -- while the compiler keeps
  // two vector accumulators in registers.
  F32x8 acc0 = {}, acc1 = {};
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    multiply_add8(acc0, a + i, b + i);
    multiply_add8(acc1, a + i + 8, b + i + 8);
  }
  float partial[16];
  std::memcpy(partial, &acc0, sizeof acc0);
  std::memcpy(partial + 8, &acc1, sizeof acc1);
  for (; i < n; ++i) partial[i % 16] += a[i] * b[i];
  float sum = 0.0f;
  for (float p : partial) sum += p;
  return sum;
}

void matmul_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end) {
  const ToFloatFn to_float = type_traits(w.type).to_float;
  AUTARKY_ASSERT(to_float != nullptr, "no dequantizer for {}", dtype_name(w.type));
  const bool is_f32 = w.type == DType::F32;  // F32 rows are used in place, without a copy
  std::vector<float> row(is_f32 ? 0 : static_cast<std::size_t>(w.n_in));  // one dequantized weight row
  for (std::int64_t o = row_begin; o < row_end; ++o) {
    const float* r = reinterpret_cast<const float*>(w.row(o));
    if (!is_f32) {
      to_float(w.row(o), row.data(), w.n_in);
      r = row.data();
    }
    for (std::int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = reinterpret_cast<const float*>(x + static_cast<std::uint64_t>(t) * x_row_bytes);
      y[t * y_stride + o] = dot_f32(r, xt, w.n_in);
    }
  }
}

}  // namespace autarky::ref
