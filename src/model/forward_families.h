#pragma once
// One forward function per architecture family. Each runs the decoder layers over the batch,
// leaving the final residual stream in ctx.scratch.x; the shared tail (norm + output) is in
// forward().

#include <cstdint>
#include <span>

#include "model/forward.h"

namespace autarky {

void forward_llama(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch);
void forward_qwen3(const Model& m, ForwardContext& ctx, std::span<const SequenceChunk> batch);

}  // namespace autarky
