#pragma once
// One forward function per architecture family. Each runs the decoder layers over the batch,
// leaving the final residual stream in ctx.scratch.x; the shared tail (norm + output) is in
// forward().

#include <cstdint>
#include <span>

#include "model/forward.h"

namespace autarky {

void forward_llama(const Model& m, ForwardContext& ctx, KvCache& cache, std::span<const std::int32_t> tokens,
                   std::int64_t pos0);
void forward_qwen3(const Model& m, ForwardContext& ctx, KvCache& cache, std::span<const std::int32_t> tokens,
                   std::int64_t pos0);

}  // namespace autarky
