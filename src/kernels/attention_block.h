#pragma once
// The unit of work of the fast attention kernels: up to kAttentionLanes queries that read the
// same KV head (the query heads of one GQA group, for one or more tokens), computed together so
// that every key and value row is converted from fp16 once and used by all of them. For scores and
// softmax each lane of a vector holds one query, or, when all queries see the same keys (a decode
// step, which has only a GQA group's few queries), one (query, key) pair of a group of keys; the
// weighted sum of values runs along the value dimensions (lanes = d). So every layout fills the
// vectors without horizontal reductions.
//
// Plain data only: the per-ISA implementations (kernels/portable, x86_avx2, x86_avx512) include
// this header, and it must not bring inline functions into them (see kernel_sets.h).

#include <cstdint>

namespace autarky {

inline constexpr int kAttentionLanes = 16;
// Keys whose rows are converted to float together (a tile stays in L1 while every lane reads it).
inline constexpr std::int64_t kAttentionTileKeys = 64;

struct AttentionBlock {
  // Queries transposed, lane-minor: qt[d * kAttentionLanes + lane], values already rounded to fp16.
  const float* qt = nullptr;
  std::int64_t head_dim_k = 0;
  std::int64_t head_dim_v = 0;
  // Lane i attends to keys [0, n_keys[i]); an unused lane has 0. max_keys is the largest of them.
  std::int32_t n_keys[kAttentionLanes] = {};
  std::int64_t max_keys = 0;
  int n_queries = 0;  // lanes in use: 0 .. n_queries - 1
  const std::uint16_t* k = nullptr;  // key j of this KV head: k + j * k_stride (fp16)
  std::int64_t k_stride = 0;
  const std::uint16_t* v = nullptr;  // value j: v + j * v_stride (fp16)
  std::int64_t v_stride = 0;
  float scale = 1.0f;                // applied to q.k
  // Scratch: scores [round_up(max_keys, kAttentionTileKeys)][kAttentionLanes] and a tile of
  // converted rows [kAttentionTileKeys][max(head_dim_k, head_dim_v)].
  float* scores = nullptr;
  float* tile = nullptr;
  // Scratch for the queries in the packed layout of a decode step: [head_dim_k][kAttentionLanes].
  float* packed_q = nullptr;
  // Result, one row per lane in use: out[lane * head_dim_v + d].
  float* out = nullptr;
};

using AttentionBlockFn = void (*)(const AttentionBlock& block);

}  // namespace autarky
