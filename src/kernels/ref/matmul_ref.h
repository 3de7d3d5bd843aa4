#pragma once
// Scalar reference matmul: dequantize one weight row through the type trait table, then dot it
// with every token's activations. It is the oracle the fast kernels are tested against.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::ref {

float dot_f32(const float* a, const float* b, std::int64_t n);

// A MatmulRowsFn (kernels/matmul.h) taking F32 activations: x holds n_tokens rows of
// x_row_bytes bytes, each starting with w.n_in floats.
void matmul_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                 float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::ref
