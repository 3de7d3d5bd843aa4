#pragma once
// Whole-tensor conversions through the trait table, split across threads for big tensors.
// These are what the quantize tool and the model loader call; per-row kernels stay in the table.

#include <cstdint>

#include "tensor/dtype.h"

namespace autarky {

// Work below this many elements stays on the calling thread (thread start-up would dominate).
constexpr std::int64_t kMinElementsPerThread = 1 << 16;

// Dequantizes n elements of `type` (n a multiple of its block size) from src into dst[n].
// n_threads <= 0 means std::thread::hardware_concurrency(). Throws autarky::Error if the type
// cannot be dequantized or n is not whole blocks.
void dequantize(DType type, const void* src, float* dst, std::int64_t n, int n_threads = 0);

// Quantizes src[n_rows][n_per_row] to `type` in dst (n_rows * row_bytes(type, n_per_row)
// bytes). Rows are independent, so they are shared out across threads. Throws autarky::Error
// if the type cannot be produced, n_per_row is not whole blocks, or (for block types) an input
// value is NaN or infinite.
void quantize(DType type, const float* src, void* dst, std::int64_t n_rows, std::int64_t n_per_row, int n_threads = 0);

}  // namespace autarky
