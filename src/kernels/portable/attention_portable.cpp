#include "kernels/portable/attention_portable.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace autarky::portable {

#include "kernels/attention_generic.inc"

void attend_block(const AttentionBlock& block) { attend_block_generic(block); }

}  // namespace autarky::portable
