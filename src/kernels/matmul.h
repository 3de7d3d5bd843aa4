#pragma once
// Matrix times activations, the op that dominates inference time. Kernels are chosen per weight
// type from a table so that faster implementations (per ISA, issue 5) replace the scalar
// reference for the types they cover without touching callers.

#include <cstdint>
#include <string_view>

#include "kernels/weight_matrix.h"
#include "platform/thread_pool.h"

namespace autarky {

// Computes y[t][o] = sum_i w[o][i] * x[t][i] for output rows o in [row_begin, row_end) and all
// tokens t. x: [n_tokens][w.n_in], y: [n_tokens][w.n_out] (row stride y_stride floats).
using MatmulRowsFn = void (*)(const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y,
                              std::int64_t y_stride, std::int64_t row_begin, std::int64_t row_end);

struct MatmulKernel {
  std::string_view name;  // "ref" for the scalar reference
  MatmulRowsFn rows = nullptr;
};

// The kernel used for weights of `type`; rows is null when the type cannot be computed with.
MatmulKernel select_matmul_kernel(DType type);

// y = x * w^T over all output rows, split across the pool by output rows.
void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);

}  // namespace autarky
