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

}  // namespace autarky
