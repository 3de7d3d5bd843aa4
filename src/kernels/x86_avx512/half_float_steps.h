#pragma once
// What the two AVX-512 float-weight kernels (half_float_avx512.cpp for decode and short chunks,
// half_float_prompt_avx512.cpp for prompts) share, so that both compute every output with the
// same operations in the same order and logits do not depend on how tokens are batched:
// - the widening of F16 / BF16 / F32 weights to F32 vectors (exact);
// - the order of a dot product of n inputs: lane j of a 16-lane accumulator takes inputs
//   j, j + 16, j + 32, ... in turn, one FMA each (w * x + acc); when n is not a multiple of 16 the
//   last step is masked, i.e. lanes past the end add 0 * 0, which turns a -0 into +0;
// - sum_lanes(): how the 16 lane sums are added up into one number.
//
// Everything here is in an anonymous namespace on purpose: each including kernel file gets its
// own copy compiled with its own flags, which the linker must never merge (see kernel_sets.h).
// Requires <immintrin.h> and AVX-512 F/BW/VL flags in the includer.

#include <cstdint>

namespace autarky::avx512 {
namespace {

// F16 weights (16 per step, widened to F32) against F32 activations.
struct F16Step {
  static constexpr int kWidth = 16;
  static constexpr bool kPairs = false;  // a lane takes one input per step
  using Weights = __m512;
  static __m512 bits(Weights w) { return w; }
  static Weights load_weights(const std::uint8_t* row, std::int64_t i) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
  }
  static Weights load_weights_tail(const std::uint8_t* row, std::int64_t i, int n) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), row + 2 * i));
  }
  static __m512 load_x(const std::uint8_t* x, std::int64_t i) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(x) + i);
  }
  static __m512 load_x_tail(const std::uint8_t* x, std::int64_t i, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), reinterpret_cast<const float*>(x) + i);
  }
  static __m512 multiply_add(__m512 acc, Weights w, __m512 x) { return _mm512_fmadd_ps(w, x, acc); }
};

// BF16 weights (16 per step) widened to F32 (a 16-bit shift) against F32 activations.
struct Bf16WidenStep : F16Step {
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static Weights load_weights(const std::uint8_t* row, std::int64_t i) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * i)));
  }
  static Weights load_weights_tail(const std::uint8_t* row, std::int64_t i, int n) {
    return widen(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << n) - 1), row + 2 * i));
  }
};

// BF16 weights against BF16 activations, 32 per step: vdpbf16ps adds to lane j the products of
// inputs 2j and 2j + 1 (exact in F32; AVX512_BF16 rounds the sum to nearest even and flushes
// denormals), so a lane takes a pair of inputs per step, twice the multiply-adds per instruction
// of widening to F32. A masked last step multiplies zeros in the lanes past the end.
struct Bf16DotStep {
  static constexpr int kWidth = 32;
  static constexpr bool kPairs = true;
  using Weights = __m512i;
  static __m512 bits(Weights w) { return _mm512_castsi512_ps(w); }
  static Weights load_weights(const std::uint8_t* row, std::int64_t i) { return _mm512_loadu_si512(row + 2 * i); }
  static Weights load_weights_tail(const std::uint8_t* row, std::int64_t i, int n) {
    return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((std::uint64_t{1} << n) - 1), row + 2 * i);
  }
  static __m512i load_x(const std::uint8_t* x, std::int64_t i) { return load_weights(x, i); }
  static __m512i load_x_tail(const std::uint8_t* x, std::int64_t i, int n) { return load_weights_tail(x, i, n); }
  // On the bits of pairs held in float vectors (as the prompt panels hold them) and as integers.
  static __m512 multiply_add(__m512 acc, __m512 w, __m512 x) {
    return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x);  // bit casts
  }
  static __m512 multiply_add(__m512 acc, Weights w, __m512i x) {
    return multiply_add(acc, _mm512_castsi512_ps(w), _mm512_castsi512_ps(x));
  }
};

// F32 weights as they are.
struct F32Step : F16Step {
  static Weights load_weights(const std::uint8_t* row, std::int64_t i) { return load_x(row, i); }
  static Weights load_weights_tail(const std::uint8_t* row, std::int64_t i, int n) { return load_x_tail(row, i, n); }
};

// The sum of the 16 lanes as a fixed tree: a[i] = v[i] + v[i + 8], b[i] = a[i] + a[i + 4],
// c[i] = b[i] + b[i + 2], result c[0] + c[1]. The prompt kernel, which holds the 16 lane sums of
// 16 outputs in 16 vectors, adds them in exactly this tree (sum_lane_vectors).
inline float sum_lanes(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

// Lane r of the result = sum_lanes of (lane r of part[0], ..., lane r of part[15]).
inline __m512 sum_lane_vectors(const __m512* part) {
  __m512 a[8], b[4];
  for (int i = 0; i < 8; ++i) a[i] = _mm512_add_ps(part[i], part[i + 8]);
  for (int i = 0; i < 4; ++i) b[i] = _mm512_add_ps(a[i], a[i + 4]);
  const __m512 c0 = _mm512_add_ps(b[0], b[2]), c1 = _mm512_add_ps(b[1], b[3]);
  return _mm512_add_ps(c0, c1);
}

}  // namespace
}  // namespace autarky::avx512
