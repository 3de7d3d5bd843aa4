#pragma once
// AVX2 kernels for K-quant weights against Q8_K activations; MatmulRowsFn signatures
// (kernels/matmul.h). Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::avx2 {

void q4_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q6_k_q8_k(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
               float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::avx2
