#pragma once
// The fast attention block (kernels/attention_generic.inc) compiled for the AVX-512 level.

#include "kernels/attention_block.h"

namespace autarky::avx512 {

void attend_block(const AttentionBlock& block);

}  // namespace autarky::avx512
