#pragma once
// Causal attention over the fp16 KV cache, chosen per instruction set like the matmul kernels.
// The fast kernels compute what ref::attention computes (same roundings, same summation order;
// see kernels/attention_generic.inc) in blocks of queries that share a KV head, so a key or
// value row is read and converted once per block instead of once per query head and token.

#include <cstdint>
#include <string_view>

#include "kernels/attention_block.h"
#include "kernels/isa.h"
#include "kernels/ref/attention_ref.h"
#include "platform/thread_pool.h"

namespace autarky {

using AttentionShape = ref::AttentionShape;
using KvLayout = ref::KvLayout;

struct AttentionKernel {
  std::string_view name;          // "ref" for the scalar reference
  Isa isa = Isa::kRef;
  AttentionBlockFn block = nullptr;  // null: run ref::attention
};

// The fastest attention kernel at instruction-set level `isa` or below.
AttentionKernel select_attention_kernel(Isa isa = default_isa());

// Arguments and layouts as ref::attention (kernels/ref/attention_ref.h), with the default kernel.
void attention(ThreadPool& pool, const AttentionShape& s, const KvLayout& layout, const float* q,
               std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k, const std::uint16_t* v, float* out);

// The same with a given kernel (tests compare every level with the reference).
void attention_with(const AttentionKernel& kernel, ThreadPool& pool, const AttentionShape& s, const KvLayout& layout,
                    const float* q, std::int64_t n_tokens, std::int64_t pos0, const std::uint16_t* k,
                    const std::uint16_t* v, float* out);

}  // namespace autarky
