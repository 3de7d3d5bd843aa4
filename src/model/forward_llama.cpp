// Llama 2/3, Mistral, TinyLlama, SmolLM, and Qwen2/2.5 (whose Q/K/V biases and NEOX pairing are data):
// pre-norm decoder, GQA attention with RoPE (pairing from the arch table; optional Llama-3 frequency
// factors folded into the model's RoPE table), SwiGLU FFN.

#include "model/decoder_steps.h"
#include "model/forward_families.h"

namespace autarky {

void forward_llama(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch) {
  const ModelConfig& c = m.config();
  ForwardScratch& s = ctx.scratch;
  const std::int64_t n = steps::batch_tokens(batch);
  steps::embed_batch(m, ctx, batch, s.x.data());
  for (std::int64_t il = 0; il < c.n_layer; ++il) {
    const TensorSet& layer = m.layer(il);
    steps::rmsnorm_rows(ctx, s.x.data(), layer.vector(TensorRole::kAttnNorm), n, c.n_embd, c.rms_eps, s.xn.data());
    // Biases are absent in most Llama models; project() skips a null bias.
    steps::project(ctx, layer.matrix(TensorRole::kAttnQ), layer.vector(TensorRole::kAttnQBias), s.xn.data(), n, s.q);
    steps::project(ctx, layer.matrix(TensorRole::kAttnK), layer.vector(TensorRole::kAttnKBias), s.xn.data(), n, s.k);
    steps::project(ctx, layer.matrix(TensorRole::kAttnV), layer.vector(TensorRole::kAttnVBias), s.xn.data(), n, s.v);
    steps::rope_batch(m, ctx, batch, s.q, c.n_head, c.head_dim_k);
    steps::rope_batch(m, ctx, batch, s.k, c.n_head_kv, c.head_dim_k);
    steps::attend_batch(m, ctx, batch, il);
    steps::attn_output(ctx, layer, n, c.n_embd);
    steps::ffn_swiglu(m, ctx, layer, n);
  }
}

}  // namespace autarky
