#pragma once
// The element-wise ops (kernels/ops_generic.inc) compiled for this folder's level; OpKernels
// signatures (kernels/ops.h). Declarations only: also read by baseline code.

#include <cstdint>

namespace autarky::portable {

void op_exp(const float* x, float* y, std::int64_t n);
void op_swiglu(float* gate, const float* up, std::int64_t n);
void op_add(float* x, const float* b, std::int64_t n);
void op_rmsnorm(const float* x, const float* weight, std::int64_t n, float eps, float* out);
void op_rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, bool neox,
             const float* cos_sin);

}  // namespace autarky::portable
