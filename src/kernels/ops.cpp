#include "kernels/ops.h"

// Compiled for the baseline: the tables and the splitting over threads never run wide
// instructions; the per-level kernels live in their folders (kernels/ops_generic.inc).

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "kernels/portable/ops_portable.h"

#if defined(AUTARKY_X86_KERNELS)
#include "kernels/x86_avx2/ops_avx2.h"
#include "kernels/x86_avx512/ops_avx512.h"
#endif

namespace autarky {

namespace {

void exp_scalar(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

// The rope kernel of the kRef level: ref::rope's arithmetic on a rope table.
void rope_scalar(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, bool neox,
                 const float* cos_sin) {
  const float* c = cos_sin;
  const float* s = cos_sin + n_rot;
  const std::int64_t half = n_rot / 2;
  for (std::int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (std::int64_t i = 0; i < half; ++i) {
      const std::int64_t a = neox ? i : 2 * i;
      const std::int64_t b = neox ? i + half : 2 * i + 1;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c[a] + x1 * s[a];
      v[b] = x1 * c[b] + x0 * s[b];
    }
  }
}

// Work per parallel share, in floats touched, below which waking the other threads costs more
// than it saves: the vector kernels do a few thousand floats per microsecond, a wake-up of the
// pool is tens of microseconds. A decode step (one token: n_ff = 8192 SwiGLU values, one
// n_embd-row norm) stays on the calling thread.
constexpr std::int64_t kExpGrain = 32 * 1024;     // SwiGLU: exp and a division per value
constexpr std::int64_t kStreamGrain = 64 * 1024;  // add, RMSNorm, RoPE: a few flops per value

std::int64_t rows_per_share(std::int64_t floats_per_row) {
  return std::max<std::int64_t>(1, kStreamGrain / std::max<std::int64_t>(floats_per_row, 1));
}

}  // namespace

const OpKernels& select_op_kernels(Isa isa) {
  static constexpr OpKernels kRef{"ref", Isa::kRef, &exp_scalar, &ref::swiglu, &ref::add, &ref::rmsnorm, &rope_scalar};
  static constexpr OpKernels kPortable{"portable", Isa::kPortable, &portable::op_exp, &portable::op_swiglu,
                                       &portable::op_add, &portable::op_rmsnorm, &portable::op_rope};
#if defined(AUTARKY_X86_KERNELS)
  static constexpr OpKernels kAvx2{"avx2", Isa::kAvx2, &avx2::op_exp, &avx2::op_swiglu,
                                   &avx2::op_add, &avx2::op_rmsnorm, &avx2::op_rope};
  static constexpr OpKernels kAvx512{"avx512", Isa::kAvx512, &avx512::op_exp, &avx512::op_swiglu,
                                     &avx512::op_add, &avx512::op_rmsnorm, &avx512::op_rope};
  if (isa >= Isa::kAvx512) return kAvx512;
  if (isa >= Isa::kAvx2) return kAvx2;
#endif
  if (isa >= Isa::kPortable) return kPortable;
  return kRef;
}

const OpKernels& op_kernels() {
  static const OpKernels& kernels = select_op_kernels(default_isa());  // fixed for the process
  return kernels;
}

namespace ops {

void swiglu(const OpKernels& k, ThreadPool& pool, float* gate, const float* up, std::int64_t n) {
  pool.parallel_for(n, kExpGrain, [&](std::int64_t begin, std::int64_t end) {
    k.swiglu(gate + begin, up + begin, end - begin);
  });
}

void add(const OpKernels& k, ThreadPool& pool, float* x, const float* b, std::int64_t n) {
  pool.parallel_for(n, kStreamGrain, [&](std::int64_t begin, std::int64_t end) {
    k.add(x + begin, b + begin, end - begin);
  });
}

void rmsnorm_rows(const OpKernels& k, ThreadPool& pool, const float* in, const float* weight, std::int64_t n_rows,
                  std::int64_t n, float eps, float* out) {
  pool.parallel_for(n_rows, rows_per_share(n), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) k.rmsnorm(in + r * n, weight, n, eps, out + r * n);
  });
}

void rope_table(const ref::RopeParams& p, std::int64_t pos0, std::int64_t n_tokens, float* table) {
  AUTARKY_ASSERT(p.n_rot % 2 == 0 && static_cast<std::int64_t>(p.inv_freq.size()) == p.n_rot / 2,
                 "rope: n_rot {} with {} frequencies", p.n_rot, p.inv_freq.size());
  const std::int64_t half = p.n_rot / 2;
  const bool neox = p.style == ref::RopeStyle::kNeox;
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    float* c = table + t * rope_table_width(p);  // [n_rot]
    float* s = c + p.n_rot;                      // [n_rot]
    const float fpos = static_cast<float>(pos0 + t);
    for (std::int64_t i = 0; i < half; ++i) {
      const float theta = fpos * p.inv_freq[static_cast<std::size_t>(i)];
      const float cos_i = std::cos(theta), sin_i = std::sin(theta);
      // Pair i is (a, b): a' = a cos - b sin, b' = b cos + a sin.
      const std::int64_t a = neox ? i : 2 * i;
      const std::int64_t b = neox ? i + half : 2 * i + 1;
      c[a] = cos_i;
      c[b] = cos_i;
      s[a] = -sin_i;
      s[b] = sin_i;
    }
  }
}

void rope_rows(const OpKernels& k, ThreadPool& pool, const ref::RopeParams& p, float* x, std::int64_t n_tokens,
               std::int64_t n_heads, std::int64_t head_dim, const float* table) {
  AUTARKY_ASSERT(p.n_rot % 2 == 0 && p.n_rot <= head_dim, "rope: n_rot {} for head_dim {}", p.n_rot, head_dim);
  const bool neox = p.style == ref::RopeStyle::kNeox;
  const std::int64_t width = n_heads * head_dim;
  pool.parallel_for(n_tokens, rows_per_share(width), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) {
      k.rope(x + t * width, n_heads, head_dim, p.n_rot, neox, table + t * rope_table_width(p));
    }
  });
}

}  // namespace ops
}  // namespace autarky
