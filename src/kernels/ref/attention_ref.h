#pragma once
// Causal scaled-dot-product attention with grouped KV heads (GQA/MQA), reading keys and values
// from a KV cache.

#include <cstdint>

#include "platform/thread_pool.h"

namespace autarky::ref {

struct AttentionShape {
  std::int64_t n_head = 0;
  std::int64_t n_head_kv = 0;  // divides n_head; query head h reads KV head h / (n_head / n_head_kv)
  std::int64_t head_dim_k = 0;
  std::int64_t head_dim_v = 0;
  float scale = 1.0f;  // applied to q.k, usually 1/sqrt(head_dim_k)
};

// Query token t sits at position pos0 + t and attends to cache positions [0, pos0 + t].
// Keys and values are fp16. The query and the attention weights are rounded to fp16 before
// they meet them, i.e. both products are half x half accumulated in float: this is what a
// half-precision dot kernel computes, and what llama.cpp (our exactness reference) does with its
// default f16 cache, so results agree to ~1e-13 KL rather than ~1e-6.
// q:   [n_tokens][n_head * head_dim_k]
// k:   [>= pos0 + n_tokens][n_head_kv * head_dim_k]   (one layer of the cache, fp16)
// v:   [>= pos0 + n_tokens][n_head_kv * head_dim_v]   (fp16)
// out: [n_tokens][n_head * head_dim_v]
void attention(ThreadPool& pool, const AttentionShape& s, const float* q, std::int64_t n_tokens, std::int64_t pos0,
               const std::uint16_t* k, const std::uint16_t* v, float* out);

}  // namespace autarky::ref
