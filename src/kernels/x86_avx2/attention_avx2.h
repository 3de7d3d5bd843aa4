#pragma once
// The fast attention block (kernels/attention_generic.inc) compiled for the AVX2 level.

#include "kernels/attention_block.h"

namespace autarky::avx2 {

void attend_block(const AttentionBlock& block);

}  // namespace autarky::avx2
