#pragma once
// The forward pass: tokens at consecutive positions in, their keys/values into the KV cache,
// next-token logits out. One function per architecture family, chosen by the model's config.

#include <cstdint>
#include <span>
#include <vector>

#include "kv/kv_cache.h"
#include "model/model.h"
#include "platform/thread_pool.h"

namespace autarky {

// The feed-forward sub-layer's share of a batch: longer batches go through it in slices of this
// many tokens (see ForwardScratch).
inline constexpr std::int64_t kFfnSliceTokens = 256;

// Activations of one forward call, reused between calls so decode does not allocate.
// The attention sub-layer's q, k, v, att and the feed-forward's gate, up are never live at the
// same time, so they are views into one allocation; gate and up hold one FFN slice
// (kFfnSliceTokens). At a 512-token prefill of a 1B model that is 16 MiB instead of 42 (and the
// matmuls' converted activations shrink with it), which decides the "model + KV + 10%" budget.
// Sub-layer outputs before their residual add go to xn, whose normalised input is dead by then.
struct ForwardScratch {
  std::int64_t n_tokens = 0;
  std::vector<float> x;     // [n_tokens][n_embd] residual stream
  std::vector<float> xn;    // [n_tokens][n_embd] normalised input of a sub-layer, then its output
  std::vector<float> rope;  // [n_tokens][2][n_rot] cos/sin of each row's position (ops::rope_table)
  std::vector<float> sublayer;  // backing store of the views below
  // Attention sub-layer:
  float* q = nullptr;    // [n_tokens][n_head * head_dim_k]
  float* k = nullptr;    // [n_tokens][n_head_kv * head_dim_k]
  float* v = nullptr;    // [n_tokens][n_head_kv * head_dim_v]
  float* att = nullptr;  // [n_tokens][n_head * head_dim_v]
  // Feed-forward sub-layer:
  float* gate = nullptr;  // [min(n_tokens, kFfnSliceTokens)][n_ff]
  float* up = nullptr;    // [min(n_tokens, kFfnSliceTokens)][n_ff]

  ForwardScratch() = default;
  // The views point into `sublayer`: a copy would alias the original's memory. (A move keeps
  // the vector's buffer, so the views stay valid.)
  ForwardScratch(const ForwardScratch&) = delete;
  ForwardScratch& operator=(const ForwardScratch&) = delete;
  ForwardScratch(ForwardScratch&&) = default;
  ForwardScratch& operator=(ForwardScratch&&) = default;

  void resize(const ModelConfig& c, std::int64_t n_tokens);
};

enum class LogitsFor { kLastToken, kAllTokens, kNone };

struct ForwardContext {
  ThreadPool& pool;
  ForwardScratch& scratch;
};

// One sequence's share of a batched forward pass: `tokens` at positions [pos0, pos0 + size) of its
// own KV cache. kNone asks for no logits (a prompt chunk that is not the prompt's end).
struct SequenceChunk {
  KvCache* cache = nullptr;
  std::span<const std::int32_t> tokens;
  std::int64_t pos0 = 0;
  LogitsFor logits = LogitsFor::kLastToken;
};

// Evaluates several sequences in one pass: the matmuls run over all their tokens together (the
// rows of chunk i follow those of chunk i - 1), RoPE and attention per sequence against its own
// cache. Same invariants as forward() per chunk; caches must be distinct. logits: the rows each
// chunk asked for, chunk after chunk: [sum of rows][n_vocab].
void forward_batch(const Model& model, ForwardContext& ctx, std::span<const SequenceChunk> batch, float* logits);

// Evaluates `tokens` at positions [pos0, pos0 + tokens.size()), which must fit in the cache and
// be valid ids (callers validate; here they are invariants). Writes the logits of the last token
// or of every token: logits [1 or n_tokens][n_vocab]. A one-chunk forward_batch().
void forward(const Model& model, ForwardContext& ctx, KvCache& cache, std::span<const std::int32_t> tokens,
             std::int64_t pos0, LogitsFor which, float* logits);

}  // namespace autarky
