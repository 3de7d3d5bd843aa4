// Qwen3: no biases, but every query and key head is RMS-normalised before RoPE, and the head
// dimension comes from attention.key_length rather than n_embd / n_head.

#include "model/decoder_steps.h"
#include "model/forward_families.h"

namespace autarky {

void forward_qwen3(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch) {
  const ModelConfig& c = m.config();
  ForwardScratch& s = ctx.scratch;
  const std::int64_t n = steps::batch_tokens(batch);
  steps::embed_batch(m, ctx, batch, s.x.data());
  for (std::int64_t il = 0; il < c.n_layer; ++il) {
    const TensorSet& layer = m.layer(il);
    steps::rmsnorm_rows(ctx, s.x.data(), layer.vector(TensorRole::kAttnNorm), n, c.n_embd, c.rms_eps, s.xn.data());
    steps::project(ctx, layer.matrix(TensorRole::kAttnQ), nullptr, s.xn.data(), n, s.q);
    steps::project(ctx, layer.matrix(TensorRole::kAttnK), nullptr, s.xn.data(), n, s.k);
    steps::project(ctx, layer.matrix(TensorRole::kAttnV), nullptr, s.xn.data(), n, s.v);
    steps::rmsnorm_heads(ctx, s.q, n * c.n_head, c.head_dim_k, layer.vector(TensorRole::kAttnQNorm), c.rms_eps);
    steps::rmsnorm_heads(ctx, s.k, n * c.n_head_kv, c.head_dim_k, layer.vector(TensorRole::kAttnKNorm), c.rms_eps);
    steps::rope_batch(m, ctx, batch, s.q, c.n_head, c.head_dim_k);
    steps::rope_batch(m, ctx, batch, s.k, c.n_head_kv, c.head_dim_k);
    steps::attend_batch(m, ctx, batch, il);
    steps::attn_output(ctx, layer, n, c.n_embd);
    steps::ffn_swiglu(m, ctx, layer, n);
  }
}

}  // namespace autarky
