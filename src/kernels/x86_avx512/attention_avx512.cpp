#include "kernels/x86_avx512/attention_avx512.h"

#include <immintrin.h>

// GCC 12 reports the deliberately undefined source vector inside _mm512_cvtph_ps
// (_mm512_undefined_ps) as "may be used uninitialized" once it is inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdint>
#include <cstring>
#include <utility>

namespace autarky::avx512 {

#include "kernels/attention_generic.inc"

void attend_block(const AttentionBlock& block) { attend_block_generic(block); }

}  // namespace autarky::avx512
