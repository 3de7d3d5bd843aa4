#pragma once
// Scalar reference matmul: dequantize one weight row through the type trait table, then dot it
// with every token's activations. It is the oracle the fast kernels are tested against.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::ref {

float dot_f32(const float* a, const float* b, std::int64_t n);

void matmul_rows(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y, std::int64_t y_stride,
                 std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::ref
