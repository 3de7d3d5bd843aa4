#pragma once
// The row loop of the K-quant GEMV kernels (AVX2 and AVX-512 folders): tokens in groups of up to
// four, so one unpack of a weight row serves every token of the group; RowN computes one row
// against N tokens. Everything here is in an anonymous namespace on purpose: each ISA folder
// includes it and gets its own copy compiled with its own flags, which the linker must never
// merge (see kernel_sets.h).

#include <cstdint>

#include "kernels/weight_matrix.h"
#include "tensor/blocks.h"

namespace autarky {
namespace {

template <typename Block>
using KquantRowFn = void (*)(const Block* row, const BlockQ8_K* const* xs, std::int64_t n_blocks, float* out);

template <typename Block, KquantRowFn<Block> Row1, KquantRowFn<Block> Row2, KquantRowFn<Block> Row3,
          KquantRowFn<Block> Row4>
void rows_by_token_groups(const WeightMatrix& w, const std::uint8_t* x, std::uint64_t x_row_bytes,
                          std::int64_t n_tokens, float* y, std::int64_t y_stride, std::int64_t row_begin,
                          std::int64_t row_end) {
  const std::int64_t n_blocks = w.n_in / kQK_K;
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
    const std::int64_t nt = n_tokens - t0 < 4 ? n_tokens - t0 : 4;
    const BlockQ8_K* xs[4];
    for (std::int64_t t = 0; t < nt; ++t)
      xs[t] = reinterpret_cast<const BlockQ8_K*>(x + static_cast<std::uint64_t>(t0 + t) * x_row_bytes);
    for (std::int64_t o = row_begin; o < row_end; ++o) {
      const auto* row = reinterpret_cast<const Block*>(w.data + static_cast<std::uint64_t>(o) * w.row_bytes);
      float out[4];
      switch (nt) {
        case 1: Row1(row, xs, n_blocks, out); break;
        case 2: Row2(row, xs, n_blocks, out); break;
        case 3: Row3(row, xs, n_blocks, out); break;
        default: Row4(row, xs, n_blocks, out); break;
      }
      for (std::int64_t t = 0; t < nt; ++t) y[(t0 + t) * y_stride + o] = out[t];
    }
  }
}

}  // namespace
}  // namespace autarky
