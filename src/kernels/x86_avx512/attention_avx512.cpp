#include "kernels/x86_avx512/attention_avx512.h"

#include <cstdint>
#include <cstring>

namespace autarky::avx512 {

#include "kernels/attention_generic.inc"

void attend_block(const AttentionBlock& block) { attend_block_generic(block); }

}  // namespace autarky::avx512
