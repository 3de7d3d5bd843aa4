#pragma once
// AMX (int8 tile multiply) kernels for prefill with Q8_0, Q4_0 and Q5_0 weights against Q8_0
// activations; MatmulRowsFn signatures (kernels/matmul.h), 16-row panels (row_multiple 16).
// Calls with few tokens go to the AVX-512 VNNI kernels of the same type.
// Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky::amx {

void q8_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q4_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);
void q5_0_q8_0_tiles(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes, std::int64_t n_tokens,
                     float* y, std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

}  // namespace autarky::amx
