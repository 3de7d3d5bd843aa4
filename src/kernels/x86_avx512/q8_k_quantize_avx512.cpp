// Q8_K activation quantization with AVX-512, byte for byte what the trait table's
// q8_k_from_float writes (src/tensor/activation_rows.cpp; checked by matmul_isa_test): the
// value of largest magnitude (the first one on ties) maps to -127, codes are rounded to nearest
// even after clamping to [-128, 127], and bsums are the sums of each 16 codes. At prompt sizes the
// scalar version cost about a fifth of the Q4_K matmul time.
//
// Compiled with AVX-512 flags: no inline functions of shared headers (see kernel_sets.h).

// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports from inside the intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86_avx512/kquant_avx512.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

void q8_k_from_float(const float* src, void* dst, std::int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  const __m512 sign_off = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (std::int64_t b = 0; b < n / kQK_K; ++b, src += kQK_K) {
    BlockQ8_K& blk = blocks[b];
    __m512 x[16];
    __m512 amax = _mm512_setzero_ps();
    for (int v = 0; v < 16; ++v) {
      x[v] = _mm512_loadu_ps(src + 16 * v);
      amax = _mm512_max_ps(amax, _mm512_and_ps(x[v], sign_off));
    }
    const float max_abs = _mm512_reduce_max_ps(amax);
    // The first element whose magnitude is max_abs gives the sign.
    float xmax = 0.0f;
    for (int v = 0; v < 16; ++v) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_and_ps(x[v], sign_off), _mm512_set1_ps(max_abs), _CMP_EQ_OQ);
      if (hit) {
        std::memcpy(&xmax, src + 16 * v + __builtin_ctz(hit), 4);
        break;
      }
    }
    // Finite and non-zero (also false for NaN); otherwise the block is all zeros, as in the table.
    if (!(max_abs > 0.0f && max_abs <= 3.4028234663852886e38f)) {
      blk.d = 0;
      std::memset(blk.qs, 0, sizeof blk.qs);
      std::memset(blk.bsums, 0, sizeof blk.bsums);
      continue;
    }
    const float inv = -127.0f / xmax;
    const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-128.0f), hi = _mm512_set1_ps(127.0f);
    for (int v = 0; v < 16; ++v) {
      const __m512 clamped = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x[v], vinv), lo), hi);
      const __m512i q = _mm512_cvtps_epi32(clamped);  // round to nearest even (default MXCSR)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.qs + 16 * v), _mm512_cvtepi32_epi8(q));
      blk.bsums[v] = static_cast<std::int16_t>(_mm512_reduce_add_epi32(q));
    }
    blk.d = 1.0f / inv;
  }
}

}  // namespace autarky::avx512
