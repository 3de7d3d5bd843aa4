#pragma once
// Kernels for the 32-weight block types (Q8_0, Q4_0, Q5_0 against Q8_0 activations; Q4_1, Q5_1
// against Q8_1) with AVX2 (legacy_quant_avx2.cpp); MatmulRowsFn signatures (kernels/matmul.h).
// Declarations only: also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::avx2 {

void q8_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_1_q8_1_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_0_q8_0_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_1_q8_1_rows(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                    float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::avx2
