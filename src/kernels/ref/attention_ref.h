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

// Where the cache rows sit: key j of KV head h starts at k + h * k_head_stride + j * k_row_stride,
// value j of KV head h at v + h * v_head_stride + j * v_row_stride (in fp16 elements).
struct KvLayout {
  std::int64_t k_head_stride = 0;
  std::int64_t k_row_stride = 0;
  std::int64_t v_head_stride = 0;
  std::int64_t v_row_stride = 0;

  // The KV heads of a position side by side: [position][n_head_kv * head_dim].
  static KvLayout interleaved(const AttentionShape& s) {
    return {s.head_dim_k, s.n_head_kv * s.head_dim_k, s.head_dim_v, s.n_head_kv * s.head_dim_v};
  }
  // Each KV head's rows in one block of capacity positions: [n_head_kv][capacity][head_dim]. A
  // head's keys are then contiguous, which the hardware prefetchers follow (KvCache stores this).
  static KvLayout head_major(const AttentionShape& s, std::int64_t capacity) {
    return {capacity * s.head_dim_k, s.head_dim_k, capacity * s.head_dim_v, s.head_dim_v};
  }
};

// Query token t sits at position pos0 + t and attends to cache positions [0, pos0 + t].
// Keys and values are fp16. The query and the attention weights are rounded to fp16 before
// they meet them, i.e. both products are half x half accumulated in float: this is what a
// half-precision dot kernel computes, and what llama.cpp (our exactness reference) does with its
// default f16 cache, so results agree to ~1e-13 KL rather than ~1e-6.
// q:   [n_tokens][n_head * head_dim_k]
// k:   one layer of the cache, fp16, >= pos0 + n_tokens keys per KV head laid out as `layout` says
// v:   fp16, likewise
// out: [n_tokens][n_head * head_dim_v]
void attention(ThreadPool& pool, const AttentionShape& s, const KvLayout& layout, const float* q,
               std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k, const std::uint16_t* v, float* out);

// The same with the interleaved layout, k: [>= pos0 + n_tokens][n_head_kv * head_dim_k].
inline void attention(ThreadPool& pool, const AttentionShape& s, const float* q, std::int64_t n_tokens,
                      std::int64_t pos0, const std::uint16_t* k, const std::uint16_t* v, float* out) {
  attention(pool, s, KvLayout::interleaved(s), q, n_tokens, pos0, k, v, out);
}

}  // namespace autarky::ref
