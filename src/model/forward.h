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

// Activations of one forward call, reused between calls so decode does not allocate.
struct ForwardScratch {
  std::int64_t n_tokens = 0;
  std::vector<float> x;     // [n_tokens][n_embd] residual stream
  std::vector<float> xn;    // [n_tokens][n_embd] normalised input of a sub-layer
  std::vector<float> q;     // [n_tokens][n_head * head_dim_k]
  std::vector<float> k;     // [n_tokens][n_head_kv * head_dim_k]
  std::vector<float> v;     // [n_tokens][n_head_kv * head_dim_v]
  std::vector<float> att;   // [n_tokens][n_head * head_dim_v]
  std::vector<float> gate;  // [n_tokens][n_ff]
  std::vector<float> up;    // [n_tokens][n_ff]
  std::vector<float> proj;  // [n_tokens][n_embd] sub-layer output before the residual add
  std::vector<float> rope;  // [n_tokens][2][n_rot] cos/sin of each row's position (ops::rope_table)

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
