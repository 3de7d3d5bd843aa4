#pragma once
// Matrix times activations, the op that dominates inference time. Kernels are chosen per weight
// type and instruction set from a table (kernel_sets.cpp), so faster implementations replace the
// scalar reference for the types they cover without touching callers.
//
// A kernel names the format it wants the activations in (F32, or Q8_0 / Q8_1 / Q8_K for integer
// dot products, BF16 for bf16 dot products); matmul() converts x to it once per call, before the
// rows are split across threads. Activations of F16 and BF16 weights are always rounded to the
// weights' type first, as llama.cpp does (kernels taking F32 get the rounded values as floats).

#include <cstdint>
#include <string_view>

#include "kernels/isa.h"
#include "kernels/weight_matrix.h"
#include "platform/thread_pool.h"
#include "tensor/dtype.h"
#include "tensor/type_traits.h"

namespace autarky {

// A matmul kernel (MatmulRows, kernels/weight_matrix.h).
using MatmulRowsFn = MatmulRows*;

using MatmulPackFn = void (*)(const WeightMatrix& w, std::uint8_t* out, std::int64_t row_begin, std::int64_t row_end);

struct MatmulKernel {
  std::string_view name;            // "ref" for the scalar reference
  Isa isa = Isa::kRef;
  DType activation = DType::F32;    // format rows() expects x in
  MatmulRowsFn rows = nullptr;
  std::int64_t row_multiple = 1;    // shares of rows are multiples of this (micro-kernel height)
  // Conversion of x to `activation` written for this kernel's instruction set; it must give
  // exactly the bytes of type_traits(activation).from_float_fast (tested). Null: use that one.
  FromFloatFn convert = nullptr;
  // Load-time repacking, for kernels whose own weight layout saves work on every call (null:
  // the kernel reads rows as they lie in the file). pack writes rows [row_begin, row_end) of w,
  // row_begin a multiple of row_multiple, into `out` (packed_bytes(w) bytes, the same for every
  // range); packed_rows then computes from that copy, marked WeightMatrix::repacked, with
  // results equal bit for bit to those of rows on the original.
  MatmulPackFn pack = nullptr;
  MatmulRowsFn packed_rows = nullptr;

  // Size of w repacked by this kernel: whole micro-kernel tiles of rows.
  std::uint64_t packed_bytes(const WeightMatrix& w) const {
    const std::int64_t m = row_multiple > 1 ? row_multiple : 1;
    return static_cast<std::uint64_t>((w.n_out + m - 1) / m * m) * w.row_bytes;
  }
};

// Repacks w with kernel.pack (which it must have) into `out`, of kernel.packed_bytes(w) bytes,
// splitting the rows across the pool; returns the matrix to compute with (data = out, repacked).
WeightMatrix repack_weights_into(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, std::uint8_t* out);

// The same in steps: rows [row_begin, row_end) of w (row_begin a multiple of kernel.row_multiple)
// into `out`, the whole matrix's buffer; once every row is packed, repacked_matrix(w, out) is
// the matrix to compute with. (The model releases the file's pages of each step's rows.)
void repack_rows_into(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, std::uint8_t* out,
                      std::int64_t row_begin, std::int64_t row_end);
WeightMatrix repacked_matrix(const WeightMatrix& w, std::uint8_t* out);

// The fastest kernel for weights of `type` at instruction-set level `isa` or below; the scalar
// reference when no faster one covers the type; rows is null when the type cannot be computed with.
MatmulKernel select_matmul_kernel(DType type, Isa isa = default_isa());

// y = x * w^T over all output rows, split across the pool by output rows, with the default
// kernel. x: [n_tokens][w.n_in] floats, y: [n_tokens][w.n_out].
void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y);

// The same with a given kernel (tests compare kernels of every level against each other).
void matmul_with(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, const float* x,
                 std::int64_t n_tokens, float* y);

}  // namespace autarky
