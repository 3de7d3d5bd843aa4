#pragma once
// The float-weight kernels (F32, F16, BF16 weights against F32 activations) built from one source,
// kernels/float_weights_generic.inc, once per instruction set: portable (4 lanes) and avx2 (8 lanes).
// Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky {

// A MatmulRowsFn (kernels/matmul.h) as a function type, so that each copy declares its three kernels in one line.
using FloatWeightRows = void(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes,
                             std::int64_t n_tokens, float* y, std::int64_t y_stride, std::int64_t row_begin,
                             std::int64_t row_end);

namespace portable {
FloatWeightRows f32_f32, f16_f32, bf16_f32;
}  // namespace portable

namespace avx2 {
FloatWeightRows f32_f32, f16_f32, bf16_f32;
}  // namespace avx2

}  // namespace autarky
