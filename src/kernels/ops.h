#pragma once
// The element-wise and normalisation ops of the forward pass (SwiGLU, residual add, RMSNorm,
// RoPE), vectorised per instruction set and split over the thread pool for prefill-sized inputs.
// The kernels of one level are a table of function pointers, chosen once like the matmul kernels
// (kernels/isa.h); the scalar reference (kernels/ref/ops_ref.h) is the oracle they are tested
// against and the kRef level's table.

#include <cstdint>

#include "kernels/isa.h"
#include "kernels/ref/ops_ref.h"
#include "platform/thread_pool.h"

namespace autarky {

struct OpKernels {
  const char* name;
  Isa isa;
  // y[i] = e^x[i]; x, y: [n]. Vector levels: within 2 ulp of the exact value for finite
  // results (normal range), e^-inf = 0, e^+inf = inf, NaN in gives NaN.
  void (*exp)(const float* x, float* y, std::int64_t n);
  // gate[i] = silu(gate[i]) * up[i]; gate, up: [n]
  void (*swiglu)(float* gate, const float* up, std::int64_t n);
  // x[i] += b[i]; x, b: [n]
  void (*add)(float* x, const float* b, std::int64_t n);
  // out = x / sqrt(mean(x^2) + eps) * weight; x, weight, out: [n]; out may alias x.
  void (*rmsnorm)(const float* x, const float* weight, std::int64_t n, float eps, float* out);
  // Rotates the first n_rot dimensions of every head of one token: x: [n_heads][head_dim];
  // cos_sin: that token's row of a rope table (ops::rope_table).
  void (*rope)(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, bool neox,
               const float* cos_sin);
};

// The kernels of that level; a level without ops of its own (kAmx: matmuls only) or one this
// build lacks gets those of the next lower level.
const OpKernels& select_op_kernels(Isa isa);

// The kernels of default_isa(), chosen on first use.
const OpKernels& op_kernels();

namespace ops {

// The element-wise ops over whole buffers: in parallel shares when the buffer is big enough
// for that to pay (prefill), inline on the calling thread otherwise (decode).
void swiglu(const OpKernels& k, ThreadPool& pool, float* gate, const float* up, std::int64_t n);
void add(const OpKernels& k, ThreadPool& pool, float* x, const float* b, std::int64_t n);

// out[r] = rmsnorm(in[r]) * weight for every row; in, out: [n_rows][n]; out may alias in.
void rmsnorm_rows(const OpKernels& k, ThreadPool& pool, const float* in, const float* weight, std::int64_t n_rows,
                  std::int64_t n, float eps, float* out);

// Floats per token of a rope table.
inline std::int64_t rope_table_width(const ref::RopeParams& p) { return 2 * p.n_rot; }

// The cosines and sines of tokens at positions [pos0, pos0 + n_tokens), computed once and shared
// by every head and layer. table: [n_tokens][2][n_rot]: per token cos[j] and sin[j] such that
// rotated x[j] = x[j] * cos[j] + x[partner(j)] * sin[j], sin carrying the sign of its term.
// Angles are those of ref::rope (float position times inv_freq, std::cos/std::sin).
void rope_table(const ref::RopeParams& p, std::int64_t pos0, std::int64_t n_tokens, float* table);

// Rotates q or k heads of n_tokens tokens: x: [n_tokens][n_heads][head_dim]; table: the rows of
// those tokens (rope_table).
void rope_rows(const OpKernels& k, ThreadPool& pool, const ref::RopeParams& p, float* x, std::int64_t n_tokens,
               std::int64_t n_heads, std::int64_t head_dim, const float* table);

}  // namespace ops
}  // namespace autarky
