#include "kernels/attention.h"

#include <algorithm>
#include <cstring>

#include "kernels/portable/attention_portable.h"
#include "kernels/scratch.h"
#include "tensor/fp16.h"

#if defined(AUTARKY_X86_KERNELS)
#include "kernels/x86_avx2/attention_avx2.h"
#include "kernels/x86_avx512/attention_avx512.h"
#endif

namespace autarky {

AttentionKernel select_attention_kernel(Isa isa) {
#if defined(AUTARKY_X86_KERNELS)
  if (isa >= Isa::kAvx512) return {"avx512_attention", Isa::kAvx512, &avx512::attend_block};
  if (isa >= Isa::kAvx2) return {"avx2_attention", Isa::kAvx2, &avx2::attend_block};
#endif
  if (isa >= Isa::kPortable) return {"portable_attention", Isa::kPortable, &portable::attend_block};
  return {"ref", Isa::kRef, nullptr};
}

void attention(ThreadPool& pool, const AttentionShape& s, const KvLayout& layout, const float* q,
               std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k, const std::uint16_t* v, float* out) {
  static const AttentionKernel kernel = select_attention_kernel();
  attention_with(kernel, pool, s, layout, q, n_tokens, pos0, k, v, out);
}

namespace {

// How the queries of one KV head are cut into blocks of at most kAttentionLanes lanes: whole
// GQA groups of consecutive tokens, or, for groups wider than a block, slices of one token's group.
struct BlockPlan {
  std::int64_t group = 1;            // query heads per KV head
  std::int64_t heads_per_block = 1;  // lanes = tokens_per_block * heads_per_block
  std::int64_t tokens_per_block = 1;
  std::int64_t head_blocks = 1;      // blocks covering one token's group
  std::int64_t token_blocks = 1;
};

BlockPlan plan_blocks(const AttentionShape& s, std::int64_t n_tokens) {
  BlockPlan p;
  p.group = s.n_head / s.n_head_kv;
  p.heads_per_block = std::min<std::int64_t>(p.group, kAttentionLanes);
  p.tokens_per_block = p.group <= kAttentionLanes ? kAttentionLanes / p.group : 1;
  p.head_blocks = (p.group + p.heads_per_block - 1) / p.heads_per_block;
  p.token_blocks = (n_tokens + p.tokens_per_block - 1) / p.tokens_per_block;
  return p;
}

// Causal blocks of late tokens cost more than early ones, and the pool hands out contiguous ranges
// of work items: visiting token blocks as 0, last, 1, last-1, ... makes ranges of equal length
// cost about the same.
std::int64_t zigzag(std::int64_t i, std::int64_t n) { return i % 2 == 0 ? i / 2 : n - 1 - i / 2; }

}  // namespace

void attention_with(const AttentionKernel& kernel, ThreadPool& pool, const AttentionShape& s, const KvLayout& layout,
                    const float* q, std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k,
                    const std::uint16_t* v, float* out) {
  if (kernel.block == nullptr) {
    ref::attention(pool, s, layout, q, n_tokens, pos0, k, v, out);
    return;
  }
  if (n_tokens <= 0) return;
  const BlockPlan plan = plan_blocks(s, n_tokens);
  const std::int64_t q_stride = s.n_head * s.head_dim_k;
  const std::int64_t out_stride = s.n_head * s.head_dim_v;
  const std::int64_t blocks_per_token_block = s.n_head_kv * plan.head_blocks;

  // Per-thread scratch, laid out as: qt [head_dim_k][lanes], packed_q [head_dim_k][lanes],
  // out [lanes][head_dim_v], tile [kAttentionTileKeys][max head dim], scores [keys rounded up to a
  // tile][lanes].
  const std::int64_t max_keys = pos0 + n_tokens;
  const std::int64_t padded_keys = (max_keys + kAttentionTileKeys - 1) / kAttentionTileKeys * kAttentionTileKeys;
  const std::int64_t qt_floats = s.head_dim_k * kAttentionLanes;
  const std::int64_t out_floats = s.head_dim_v * kAttentionLanes;
  const std::int64_t tile_floats = kAttentionTileKeys * std::max(s.head_dim_k, s.head_dim_v);
  const std::int64_t score_floats = padded_keys * kAttentionLanes;
  const auto scratch_bytes =
      static_cast<std::size_t>(2 * qt_floats + out_floats + tile_floats + score_floats) * sizeof(float);

  // Balanced: a decode step has only one item per KV head, and an item is a whole block.
  pool.parallel_for_balanced(plan.token_blocks * blocks_per_token_block, 1, [&](std::int64_t begin, std::int64_t end) {
    auto* scratch = reinterpret_cast<float*>(kernels::thread_scratch(kernels::ScratchSlot::kAttention, scratch_bytes));
    float* qt = scratch;
    AttentionBlock b;
    b.qt = qt;
    b.head_dim_k = s.head_dim_k;
    b.head_dim_v = s.head_dim_v;
    b.k_stride = layout.k_row_stride;
    b.v_stride = layout.v_row_stride;
    b.scale = s.scale;
    b.packed_q = scratch + qt_floats;
    b.out = b.packed_q + qt_floats;
    b.tile = b.out + out_floats;
    b.scores = b.tile + tile_floats;
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t token_block = zigzag(item / blocks_per_token_block, plan.token_blocks);
      const std::int64_t kv_head = item % blocks_per_token_block / plan.head_blocks;
      const std::int64_t head0 = kv_head * plan.group + item % plan.head_blocks * plan.heads_per_block;
      const std::int64_t head_end = std::min(kv_head * plan.group + plan.group, head0 + plan.heads_per_block);
      const std::int64_t token0 = token_block * plan.tokens_per_block;
      const std::int64_t token_end = std::min(n_tokens, token0 + plan.tokens_per_block);
      b.k = k + kv_head * layout.k_head_stride;
      b.v = v + kv_head * layout.v_head_stride;
      b.max_keys = pos0 + token_end;  // the block's last token sees the most keys
      // Lane (t, h) holds query head h of token t; its query is rounded to fp16 like the reference.
      int lane = 0;
      for (std::int64_t t = token0; t < token_end; ++t) {
        for (std::int64_t h = head0; h < head_end; ++h, ++lane) {
          const float* qh = q + t * q_stride + h * s.head_dim_k;
          for (std::int64_t d = 0; d < s.head_dim_k; ++d) {
            qt[d * kAttentionLanes + lane] = fp16_to_float(float_to_fp16(qh[d]));
          }
          b.n_keys[lane] = static_cast<std::int32_t>(pos0 + t + 1);
        }
      }
      b.n_queries = lane;
      for (; lane < kAttentionLanes; ++lane) {
        for (std::int64_t d = 0; d < s.head_dim_k; ++d) qt[d * kAttentionLanes + lane] = 0.0f;
        b.n_keys[lane] = 0;
      }
      kernel.block(b);
      lane = 0;
      for (std::int64_t t = token0; t < token_end; ++t) {
        for (std::int64_t h = head0; h < head_end; ++h, ++lane) {
          float* oh = out + t * out_stride + h * s.head_dim_v;
          std::memcpy(oh, b.out + lane * s.head_dim_v, static_cast<std::size_t>(s.head_dim_v) * sizeof(float));
        }
      }
    }
  });
}

}  // namespace autarky
