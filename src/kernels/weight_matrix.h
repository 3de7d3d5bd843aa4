#pragma once
// A weight matrix as kernels see it: rows of `n_in` elements of any tensor type, stored
// contiguously in the memory-mapped model file, or, when `repacked`, in the layout of the
// matmul kernel that repacked it at load time (MatmulKernel::pack): then only that kernel's
// packed_rows may read it, and row() does not apply.

#include <cstdint>

#include "tensor/dtype.h"

namespace autarky {

struct WeightMatrix {
  DType type = DType::F32;
  const std::uint8_t* data = nullptr;  // [n_out][row_bytes]
  std::int64_t n_in = 0;               // elements per row (GGUF ne[0])
  std::int64_t n_out = 0;              // rows (GGUF ne[1])
  std::uint64_t row_bytes = 0;
  bool repacked = false;

  const std::uint8_t* row(std::int64_t r) const { return data + static_cast<std::uint64_t>(r) * row_bytes; }
};

// The signature of every matmul kernel (a function type, so that a kernel header can declare
// several in one line: `MatmulRows q4_k_q8_k, q5_k_q8_k;`). Computes y[t][o] = sum_i w[o][i] *
// x[t][i] for output rows o in [row_begin, row_end) and all tokens t. x: [n_tokens] rows of
// x_row_bytes bytes, each holding w.n_in values in the kernel's activation type; y: [n_tokens]
// rows of y_stride floats.
using MatmulRows = void(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes,
                        std::int64_t n_tokens, float* y, std::int64_t y_stride, std::int64_t row_begin,
                        std::int64_t row_end);

}  // namespace autarky
