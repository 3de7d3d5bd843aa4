#include "model/decoder_steps.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "kernels/matmul.h"
#include "kernels/attention.h"
#include "kernels/ops.h"
#include "kernels/ref/ops_ref.h"
#include "tensor/type_traits.h"

namespace autarky::steps {

void embed(const Model& m, ThreadPool& pool, std::span<const std::int32_t> tokens, float* x) {
  const WeightMatrix& emb = m.globals().matrix(TensorRole::kTokenEmbd);
  const ToFloatFn to_float = type_traits(emb.type).to_float;
  for (const std::int32_t token : tokens) {
    AUTARKY_ASSERT(token >= 0 && token < emb.n_out, "token {} out of range", token);
  }
  // Prefill: rows in parallel shares of >= 32K floats; a decode step's one row stays inline.
  const auto n_tokens = static_cast<std::int64_t>(tokens.size());
  pool.parallel_for(n_tokens, std::max<std::int64_t>(1, 32768 / emb.n_in), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) to_float(emb.row(tokens[t]), x + t * emb.n_in, emb.n_in);
  });
}

void rmsnorm_rows(ForwardContext& ctx, const float* in, const float* weight, std::int64_t n_tokens, std::int64_t n,
                  float eps, float* out) {
  ops::rmsnorm_rows(op_kernels(), ctx.pool, in, weight, n_tokens, n, eps, out);
}

void project(ForwardContext& ctx, const WeightMatrix& w, const float* bias, const float* in, std::int64_t n_tokens,
             float* out) {
  matmul(ctx.pool, w, in, n_tokens, out);
  if (bias) {
    for (std::int64_t t = 0; t < n_tokens; ++t) op_kernels().add(out + t * w.n_out, bias, w.n_out);
  }
}

void rmsnorm_heads(ForwardContext& ctx, float* x, std::int64_t n_vectors, std::int64_t head_dim, const float* weight,
                   float eps) {
  ops::rmsnorm_rows(op_kernels(), ctx.pool, x, weight, n_vectors, head_dim, eps, x);
}

void attend(const Model& m, ForwardContext& ctx, KvCache& cache, std::int64_t il, std::int64_t row0,
            std::int64_t n_tokens, std::int64_t pos0) {
  const ModelConfig& c = m.config();
  ForwardScratch& s = ctx.scratch;
  AUTARKY_ASSERT(cache.shape().n_head_kv == c.n_head_kv && cache.head_dim_k() == c.head_dim_k &&
                 cache.head_dim_v() == c.head_dim_v);
  cache.store(il, pos0, n_tokens, s.k + row0 * cache.shape().k_width, s.v + row0 * cache.shape().v_width);
  AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim_k, c.head_dim_v,
                            1.0f / std::sqrt(static_cast<float>(c.head_dim_k))};
  autarky::attention(ctx.pool, shape, KvLayout::head_major(shape, cache.n_ctx()), s.q + row0 * c.n_head * c.head_dim_k,
                     n_tokens, pos0, cache.k_layer(il), cache.v_layer(il), s.att + row0 * c.n_head * c.head_dim_v);
}

std::int64_t batch_tokens(std::span<const SequenceChunk> batch) {
  std::int64_t n = 0;
  for (const SequenceChunk& c : batch) n += static_cast<std::int64_t>(c.tokens.size());
  return n;
}

void embed_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* x) {
  const std::int64_t n_embd = m.config().n_embd;
  for (const SequenceChunk& c : batch) {
    embed(m, ctx.pool, c.tokens, x);
    x += static_cast<std::int64_t>(c.tokens.size()) * n_embd;
  }
}

void rope_tables(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch) {
  const ref::RopeParams p = m.rope_params();
  float* table = ctx.scratch.rope.data();
  for (const SequenceChunk& c : batch) {
    const auto n = static_cast<std::int64_t>(c.tokens.size());
    ops::rope_table(p, c.pos0, n, table);
    table += n * ops::rope_table_width(p);
  }
}

void rope_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* x,
                std::int64_t n_heads, std::int64_t head_dim) {
  ops::rope_rows(op_kernels(), ctx.pool, m.rope_params(), x, batch_tokens(batch), n_heads, head_dim,
                 ctx.scratch.rope.data());
}

void attend_batch(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, std::int64_t il) {
  std::int64_t row0 = 0;
  for (const SequenceChunk& c : batch) {
    const auto n = static_cast<std::int64_t>(c.tokens.size());
    attend(m, ctx, *c.cache, il, row0, n, c.pos0);
    row0 += n;
  }
}

void attn_output(ForwardContext& ctx, const TensorSet& layer, std::int64_t n_tokens, std::int64_t n_embd) {
  ForwardScratch& s = ctx.scratch;
  project(ctx, layer.matrix(TensorRole::kAttnOut), nullptr, s.att, n_tokens, s.xn.data());
  ops::add(op_kernels(), ctx.pool, s.x.data(), s.xn.data(), n_tokens * n_embd);
}

void ffn_swiglu(const Model& m, ForwardContext& ctx, const TensorSet& layer, std::int64_t n_tokens) {
  const ModelConfig& c = m.config();
  ForwardScratch& s = ctx.scratch;
  // A long prompt goes through in slices of kFfnSliceTokens so that gate and up (n_ff wide, the
  // biggest activations) stay bounded; each row's arithmetic is the same as in one pass.
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += kFfnSliceTokens) {
    const std::int64_t n = std::min(kFfnSliceTokens, n_tokens - t0);
    float* x = s.x.data() + t0 * c.n_embd;
    float* xn = s.xn.data() + t0 * c.n_embd;
    rmsnorm_rows(ctx, x, layer.vector(TensorRole::kFfnNorm), n, c.n_embd, c.rms_eps, xn);
    project(ctx, layer.matrix(TensorRole::kFfnGate), nullptr, xn, n, s.gate);
    project(ctx, layer.matrix(TensorRole::kFfnUp), nullptr, xn, n, s.up);
    ops::swiglu(op_kernels(), ctx.pool, s.gate, s.up, n * c.n_ff);
    project(ctx, layer.matrix(TensorRole::kFfnDown), nullptr, s.gate, n, xn);
    ops::add(op_kernels(), ctx.pool, x, xn, n * c.n_embd);
  }
}

void output_logits(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* logits) {
  const ModelConfig& c = m.config();
  ForwardScratch& s = ctx.scratch;
  const float* norm = m.globals().vector(TensorRole::kOutputNorm);
  // Gather the normalised rows that need logits into xn, then one matmul over all of them.
  std::int64_t row0 = 0, rows = 0;
  for (const SequenceChunk& chunk : batch) {
    const auto n = static_cast<std::int64_t>(chunk.tokens.size());
    const std::int64_t first = chunk.logits == LogitsFor::kAllTokens ? 0 : chunk.logits == LogitsFor::kLastToken ? n - 1 : n;
    rmsnorm_rows(ctx, s.x.data() + (row0 + first) * c.n_embd, norm, n - first, c.n_embd, c.rms_eps,
                 s.xn.data() + rows * c.n_embd);
    rows += n - first;
    row0 += n;
  }
  if (rows > 0) matmul(ctx.pool, m.output(), s.xn.data(), rows, logits);
}

}  // namespace autarky::steps
