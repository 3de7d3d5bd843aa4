#include "model/forward.h"

#include "base/error.h"
#include "model/decoder_steps.h"
#include "model/forward_families.h"

namespace autarky {

void ForwardScratch::resize(const ModelConfig& c, std::int64_t n) {
  if (n <= n_tokens) return;  // grow only: decode after a long prefill reuses the big buffers
  n_tokens = n;
  auto size = [n](std::int64_t width) { return static_cast<std::size_t>(n * width); };
  x.resize(size(c.n_embd));
  xn.resize(size(c.n_embd));
  q.resize(size(c.n_head * c.head_dim_k));
  k.resize(size(c.n_head_kv * c.head_dim_k));
  v.resize(size(c.n_head_kv * c.head_dim_v));
  att.resize(size(c.n_head * c.head_dim_v));
  gate.resize(size(c.n_ff));
  up.resize(size(c.n_ff));
  proj.resize(size(c.n_embd));
  rope.resize(size(2 * c.n_rot));
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
