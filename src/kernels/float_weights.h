#pragma once
// The float-weight kernels (F32, F16, BF16 weights against F32 activations) built from one source,
// kernels/float_weights_generic.inc, once per instruction set: portable (4 lanes) and avx2 (8 lanes).
// Declarations only: this header is also read by baseline code.

#include <cstdint>

#include "kernels/weight_matrix.h"

namespace autarky {

namespace portable {
MatmulRows f32_f32, f16_f32, bf16_f32;
}  // namespace portable

namespace avx2 {
MatmulRows f32_f32, f16_f32, bf16_f32;
}  // namespace avx2

}  // namespace autarky
