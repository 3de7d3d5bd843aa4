#pragma once
// IEEE half precision (binary16) and bfloat16 <-> float conversions, bit-exact and portable.
//
// float -> half rounds to nearest, ties to even, overflows to +-Inf, keeps NaN a (quiet) NaN and
// produces subnormal halves for tiny values. float -> bf16 does what gguf-py and ggml do: round
// to nearest even on the upper 16 bits, and NaN becomes a quiet NaN with the sign kept.

#include <bit>
#include <cstdint>

namespace autarky {

inline float fp16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // Inf / NaN
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return std::bit_cast<float>(sign);  // +-0
  // Subnormal half: value = mant * 2^-24, exact in float.
  const float magnitude = static_cast<float>(mant) * 0x1p-24f;
  return sign ? -magnitude : magnitude;
}

inline std::uint16_t float_to_fp16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN: keep the top payload bits, force the quiet bit
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to >= 65536: Inf
  if (abs >= 0x38800000u) {  // normal half range (>= 2^-14)
    // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even;
    // a carry out of the mantissa correctly bumps the exponent.
    const std::uint32_t rebased = abs - (112u << 23);
    const std::uint32_t round = 0xfffu + ((rebased >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | ((rebased + round) >> 13));
  }
  if (abs < 0x33000000u) return sign;  // below half the smallest subnormal (2^-25): +-0
  // Subnormal half: shift the mantissa (with its implicit 1) into place, rounding to nearest even.
  const std::uint32_t exp = abs >> 23;
  const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126 - exp;  // 14..24 for exp in [102, 112]
  const std::uint32_t halfway = 1u << (shift - 1);
  std::uint32_t result = mant >> shift;
  const std::uint32_t rest = mant & ((1u << shift) - 1);
  if (rest > halfway || (rest == halfway && (result & 1u))) ++result;
  return static_cast<std::uint16_t>(sign | result);
}

inline float bf16_to_float(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace autarky
