#include "kernels/x86_avx2/attention_avx2.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace autarky::avx2 {

#include "kernels/attention_generic.inc"

void attend_block(const AttentionBlock& block) { attend_block_generic(block); }

}  // namespace autarky::avx2
