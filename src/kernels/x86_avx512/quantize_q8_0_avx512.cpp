// Q8_0 and Q8_1 quantization of activations with AVX-512: the same arithmetic as the scalar
// rows::q8_0_from_float_fast and rows::q8_1_from_float (tensor/activation_rows.cpp), step for
// step, so the bytes are identical (matmul_isa_test checks it): max |x| of the block,
// d = fp16(min(amax / 127, 65504)) rounded to nearest even, codes
// round_to_nearest_even(clamp(x * (127 / amax), -127, 127)); Q8_1 adds
// s = fp16(clamp(min(amax / 127, 65504) * sum of the codes, +-65504)).

#include <immintrin.h>

// GCC 12 reports the deliberately undefined source vector inside some AVX-512 intrinsics
// (_mm512_undefined_*) as "may be used uninitialized" once they are inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86_avx512/legacy_quant_avx512.h"
#include "tensor/blocks.h"

namespace autarky::avx512 {

namespace {

template <class Block>
void quantize_blocks(const float* src, void* dst, std::int64_t n) {
  constexpr bool kWithSum = sizeof(Block) == sizeof(BlockQ8_1);
  auto* out = static_cast<std::uint8_t*>(dst);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (std::int64_t b = 0; b < n / kQK; ++b, src += kQK, out += sizeof(Block)) {
    const __m512 x0 = _mm512_loadu_ps(src), x1 = _mm512_loadu_ps(src + 16);
    const __m512 a = _mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1));
    const float amax = _mm512_reduce_max_ps(a);
    const float scaled = amax / 127.0f;
    const float scale = scaled < 65504.0f ? scaled : 65504.0f;
    const __m128i d_half = _mm_cvtps_ph(_mm_set_ss(scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const float inv = !(amax > 0) ? 0.0f : amax <= 3.4028234663852886e38f ? 127.0f / amax : 1.0f / 65504.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    // Clamp, then convert with the default rounding (nearest even), as round_clamped does.
    const __m512 q0 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x0, vinv), lo), hi);
    const __m512 q1 = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x1, vinv), lo), hi);
    const __m512i c0 = _mm512_cvtps_epi32(q0), c1 = _mm512_cvtps_epi32(q1);
    const std::uint16_t d16 = static_cast<std::uint16_t>(_mm_extract_epi16(d_half, 0));
    std::memcpy(out, &d16, 2);
    std::uint8_t* codes = out + offsetof(Block, qs);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes), _mm512_cvtsepi32_epi8(c0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + 16), _mm512_cvtsepi32_epi8(c1));
    if constexpr (kWithSum) {
      const float sum = static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(c0, c1)));
      float s = scale * sum;
      s = s < -65504.0f ? -65504.0f : s > 65504.0f ? 65504.0f : s;
      const __m128i s_half = _mm_cvtps_ph(_mm_set_ss(s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const std::uint16_t s16 = static_cast<std::uint16_t>(_mm_extract_epi16(s_half, 0));
      std::memcpy(out + offsetof(BlockQ8_1, s), &s16, 2);
    }
  }
}

}  // namespace

void q8_0_from_float(const float* src, void* dst, std::int64_t n) { quantize_blocks<BlockQ8_0>(src, dst, n); }
void q8_1_from_float(const float* src, void* dst, std::int64_t n) { quantize_blocks<BlockQ8_1>(src, dst, n); }

}  // namespace autarky::avx512
