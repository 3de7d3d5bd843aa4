#include "model/forward.h"

#include <algorithm>

#include "base/error.h"
#include "model/decoder_steps.h"
#include "model/forward_families.h"

namespace autarky {

void ForwardScratch::resize(const ModelConfig& c, std::int64_t n) {
  if (n <= n_tokens) return;  // grow only: decode after a long prefill reuses the big buffers
  n_tokens = n;
  x.resize(static_cast<std::size_t>(n * c.n_embd));
  xn.resize(static_cast<std::size_t>(n * c.n_embd));
  rope.resize(static_cast<std::size_t>(n * 2 * c.n_rot));
  const std::int64_t q_width = c.n_head * c.head_dim_k, kv_width = c.n_head_kv * (c.head_dim_k + c.head_dim_v);
  const std::int64_t attention = n * (q_width + kv_width + c.n_head * c.head_dim_v);
  const std::int64_t ffn_rows = std::min(n, kFfnSliceTokens);
  const std::int64_t feed_forward = ffn_rows * 2 * c.n_ff;
  sublayer.assign(static_cast<std::size_t>(std::max(attention, feed_forward)), 0.0f);
  q = sublayer.data();
  k = q + n * q_width;
  v = k + n * c.n_head_kv * c.head_dim_k;
  att = v + n * c.n_head_kv * c.head_dim_v;
  gate = sublayer.data();
  up = gate + ffn_rows * c.n_ff;
}

void forward_batch(const Model& model, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* logits) {
  std::int64_t n_tokens = 0;
  for (const SequenceChunk& c : batch) {
    const auto n = static_cast<std::int64_t>(c.tokens.size());
    AUTARKY_ASSERT(c.cache != nullptr && n > 0 && c.pos0 >= 0 && c.pos0 + n <= c.cache->n_ctx(),
                   "batch {} at {} in cache of {}", n, c.pos0, c.cache ? c.cache->n_ctx() : 0);
    n_tokens += n;
  }
  AUTARKY_ASSERT(n_tokens > 0, "empty batch");
  ctx.scratch.resize(model.config(), n_tokens);
  steps::rope_tables(model, ctx, batch);
  switch (model.config().arch) {
    case Arch::kLlama: forward_llama(model, ctx, batch); break;
    // Qwen2 differs from Llama only in data (Q/K/V biases, NEOX pairing from the arch table).
    case Arch::kQwen2: forward_llama(model, ctx, batch); break;
    case Arch::kQwen3: forward_qwen3(model, ctx, batch); break;
  }
  steps::output_logits(model, ctx, batch, logits);
}

void forward(const Model& model, ForwardContext& ctx, KvCache& cache, std::span<const std::int32_t> tokens,
             std::int64_t pos0, LogitsFor which, float* logits) {
  const SequenceChunk chunk{&cache, tokens, pos0, which};
  forward_batch(model, ctx, {&chunk, 1}, logits);
}

}  // namespace autarky
