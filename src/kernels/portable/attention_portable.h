#pragma once
// The fast attention block (kernels/attention_generic.inc) compiled for the portable level.

#include "kernels/attention_block.h"

namespace autarky::portable {

void attend_block(const AttentionBlock& block);

}  // namespace autarky::portable
