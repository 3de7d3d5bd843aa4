#include "kernels/matmul.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "base/error.h"
#include "kernels/kernel_sets.h"
#include "kernels/ref/matmul_ref.h"
#include "tensor/fp16.h"
#include "tensor/type_traits.h"

namespace autarky {

MatmulKernel select_matmul_kernel(DType type, Isa isa) {
  const CpuFeatures& cpu = cpu_features();
  // Highest level first; a level may cover only some types.
  const MatmulKernel* found = nullptr;
  if (isa >= Isa::kAmx) found = kernel_sets::amx(type, cpu);
  if (!found && isa >= Isa::kAvx512) found = kernel_sets::avx512(type, cpu);
  if (!found && isa >= Isa::kAvx2) found = kernel_sets::avx2(type, cpu);
  if (!found && isa >= Isa::kPortable) found = kernel_sets::portable(type, cpu);
  if (found) return *found;
  if (!can_dequantize(type)) return {"none", Isa::kRef, DType::F32, nullptr, 1, nullptr};
  return {"ref", Isa::kRef, DType::F32, &ref::matmul_rows, 1, nullptr};
}

namespace {
// The converted activations of the current call. One buffer per calling thread, kept between
// calls so decode steps do not allocate; matmul() is never re-entered on the same thread.
std::vector<std::uint8_t>& activation_buffer() {
  thread_local std::vector<std::uint8_t> buffer;
  return buffer;
}

// x rounded to bfloat16 (nearest even; NaN stays a quiet NaN), kept as floats: float_to_bf16
// without a branch, so the loop vectorises.
void round_to_bf16(const float* x, void* dst, std::int64_t n) {
  auto* out = static_cast<float*>(dst);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x[i]);
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    const std::uint32_t nan = (u | 0x400000u) & 0xffff0000u;
    out[i] = std::bit_cast<float>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
  }
}

// x rounded to half precision, kept as floats. Values in the range of normal halves round their
// mantissa to 10 bits in place (nearest even; a carry bumps the exponent), which vectorises; the
// rest (zeros, subnormal halves, overflow to Inf, NaN) go through float_to_fp16.
void round_to_f16(const float* x, void* dst, std::int64_t n) {
  auto* out = static_cast<float*>(dst);
  bool others = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x[i]);
    const std::uint32_t abs = u & 0x7fffffffu;
    const bool normal = abs >= 0x38800000u && abs < 0x477ff000u;
    out[i] = std::bit_cast<float>((u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu);
    others |= !normal;
  }
  if (!others) return;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t abs = std::bit_cast<std::uint32_t>(x[i]) & 0x7fffffffu;
    if (abs < 0x38800000u || abs >= 0x477ff000u) out[i] = fp16_to_float(float_to_fp16(x[i]));
  }
}
}  // namespace

void matmul_with(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, const float* x,
                 std::int64_t n_tokens, float* y) {
  AUTARKY_ASSERT(kernel.rows != nullptr, "no matmul kernel for {}", dtype_name(w.type));
  const std::uint8_t* xa = reinterpret_cast<const std::uint8_t*>(x);
  std::uint64_t xa_row_bytes = static_cast<std::uint64_t>(w.n_in) * sizeof(float);
  // llama.cpp multiplies half-precision weights with activations rounded to the weights' type
  // (ggml's vec_dot_type), and so does autarky, so that logits agree: on the golden tiny-llama
  // models the mean KL went from 5.5e-7 to 1.6e-7 (F16) and from 2.5e-5 to 8.9e-6 (BF16).
  // Kernels that take F32 activations get them rounded here, kept as floats.
  FromFloatFn convert = nullptr;
  if (kernel.activation != DType::F32) {
    convert = kernel.convert ? kernel.convert : type_traits(kernel.activation).from_float_fast;
    AUTARKY_ASSERT(convert != nullptr, "no conversion to {}", dtype_name(kernel.activation));
    xa_row_bytes = row_bytes(kernel.activation, w.n_in);
  } else if (w.type == DType::F16) {
    convert = &round_to_f16;
  } else if (w.type == DType::BF16) {
    convert = &round_to_bf16;
  }
  if (convert != nullptr) {
    std::vector<std::uint8_t>& buffer = activation_buffer();
    buffer.resize(xa_row_bytes * static_cast<std::uint64_t>(n_tokens));
    std::uint8_t* out = buffer.data();
    const std::int64_t n_in = w.n_in;
    auto convert_rows = [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t t = begin; t < end; ++t) convert(x + t * n_in, out + t * xa_row_bytes, n_in);
    };
    if (n_tokens >= 8) {
      pool.parallel_for(n_tokens, 4, convert_rows);
    } else {
      convert_rows(0, n_tokens);
    }
    xa = out;
  }
  // Enough rows per share that thread wake-up is amortised, in whole micro-kernel tiles.
  const std::int64_t m = std::max<std::int64_t>(kernel.row_multiple, 1);
  std::int64_t grain = std::max<std::int64_t>(16, 4096 / std::max<std::int64_t>(w.n_in, 1));
  grain = (grain + m - 1) / m * m;
  const std::int64_t n_tiles = (w.n_out + m - 1) / m;
  const MatmulRowsFn rows_fn = w.repacked ? kernel.packed_rows : kernel.rows;
  AUTARKY_ASSERT(rows_fn != nullptr, "kernel {} cannot read repacked {} weights", kernel.name, dtype_name(w.type));
  auto rows = [&](std::int64_t begin, std::int64_t end) {
    rows_fn(w, xa, xa_row_bytes, n_tokens, y, w.n_out, begin * m, std::min(end * m, w.n_out));
  };
  // A decode step's matmul is bound by memory reads, and a range costs nothing to start: pieces
  // claimed as threads finish keep both cores reading when one is slowed down. Prompt kernels
  // pack activations per range, so they keep one range per thread.
  if (n_tokens == 1) {
    pool.parallel_for_balanced(n_tiles, grain / m, rows);
  } else {
    pool.parallel_for(n_tiles, grain / m, rows);
  }
}

void repack_rows_into(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, std::uint8_t* out,
                      std::int64_t row_begin, std::int64_t row_end) {
  AUTARKY_ASSERT(kernel.pack != nullptr && kernel.packed_rows != nullptr && !w.repacked, "kernel {} cannot repack {}",
                 kernel.name, dtype_name(w.type));
  const std::int64_t m = std::max<std::int64_t>(kernel.row_multiple, 1);
  AUTARKY_ASSERT(row_begin % m == 0 && 0 <= row_begin && row_begin <= row_end && row_end <= w.n_out,
                 "bad row range [{}, {}) to repack", row_begin, row_end);
  const std::int64_t first_tile = row_begin / m, n_tiles = (row_end - row_begin + m - 1) / m;
  pool.parallel_for(n_tiles, 1, [&](std::int64_t begin, std::int64_t end) {
    kernel.pack(w, out, (first_tile + begin) * m, std::min((first_tile + end) * m, row_end));
  });
}

WeightMatrix repacked_matrix(const WeightMatrix& w, std::uint8_t* out) {
  WeightMatrix packed = w;
  packed.data = out;
  packed.repacked = true;
  return packed;
}

WeightMatrix repack_weights_into(const MatmulKernel& kernel, ThreadPool& pool, const WeightMatrix& w, std::uint8_t* out) {
  repack_rows_into(kernel, pool, w, out, 0, w.n_out);
  return repacked_matrix(w, out);
}

void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y) {
  matmul_with(select_matmul_kernel(w.type), pool, w, x, n_tokens, y);
}

}  // namespace autarky
