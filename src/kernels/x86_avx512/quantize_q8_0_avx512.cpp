// Q8_0 quantization of activations with AVX-512: the same arithmetic as the scalar
// rows::q8_0_from_float_fast (tensor/activation_rows.cpp), step for step, so the bytes are
// identical (matmul_isa_test checks it): max |x| of the block, d = fp16(min(amax / 127, 65504))
// rounded to nearest even, codes round_to_nearest_even(clamp(x * (127 / amax), -127, 127)).

#include <immintrin.h>

// GCC 12 reports the deliberately undefined source vector inside some AVX-512 intrinsics
// (_mm512_undefined_*) as "may be used uninitialized" once they are inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdint>
#include <cstring>

#include "kernels/x86_avx512/legacy_quant_avx512.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

void q8_0_from_float(const float* src, void* dst, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(dst);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK, out += sizeof(BlockQ8_0)) {
    const __m512 x0 = _mm512_loadu_ps(src), x1 = _mm512_loadu_ps(src + 16);
    const __m512 a = _mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1));
    const float amax = _mm512_reduce_max_ps(a);
    const float scaled = amax / 127.0f;
    const __m128 d_in = _mm_set_ss(scaled < 65504.0f ? scaled : 65504.0f);
    const __m128i d_half = _mm_cvtps_ph(d_in, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const float inv = !(amax > 0) ? 0.0f : amax <= 3.4028234663852886e38f ? 127.0f / amax : 1.0f / 65504.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    // Clamp, then convert with the default rounding (nearest even), as round_clamped does.
    const __m512 q0 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x0, vinv), lo), hi);
    const __m512 q1 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x1, vinv), lo), hi);
    const std::uint16_t d16 = static_cast<std::uint16_t>(_mm_extract_epi16(d_half, 0));
    std::memcpy(out, &d16, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(q0)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 18), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(q1)));
  }
}

}  // namespace autarky::avx512
