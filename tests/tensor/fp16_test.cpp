// fp16 and bf16 conversions. The compiler's own _Float16 (software IEEE conversion in libgcc)
// is the oracle for half precision; bf16 is checked against its definition (nearest of the
// two neighbouring bf16 values, ties to even, NaN kept as a quiet NaN).

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "tensor/fp16.h"
#include "test_support.h"

namespace autarky {
namespace {

// The compiler's half type: _Float16 on x86-64; GCC for AArch64 (C++) spells it __fp16, which
// converts with the hardware's IEEE instructions.
#if defined(__aarch64__)
using CompilerHalf = __fp16;
#else
using CompilerHalf = _Float16;
#endif

std::uint16_t oracle_fp16_bits(float f) {
  const CompilerHalf h = static_cast<CompilerHalf>(f);
  std::uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}
float oracle_fp16_value(std::uint16_t bits) {
  CompilerHalf h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}

TEST(Fp16, EveryHalfDecodesLikeTheCompiler) {
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const float ours = fp16_to_float(bits), theirs = oracle_fp16_value(bits);
    if (std::isnan(theirs)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << b;
      ASSERT_EQ(float_to_fp16(ours), bits | 0x0200) << std::hex << b;  // NaN stays NaN, made quiet
    } else {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(ours), std::bit_cast<std::uint32_t>(theirs)) << std::hex << b;
      ASSERT_EQ(float_to_fp16(ours), bits) << std::hex << b;  // exact values survive the round trip
    }
  }
}

TEST(Fp16, EncodingRoundsLikeTheCompiler) {
  std::mt19937 rng(2026);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  // Random bit patterns hit every exponent; the second set concentrates on the half range,
  // where rounding (normal, subnormal, overflow) actually happens.
  for (int i = 0; i < 400000; ++i) {
    std::uint32_t x = any_bits(rng);
    if (i % 2) x = (x & 0x80000000u) | (0x33000000u + x % (0x47800000u - 0x33000000u));
    const float f = std::bit_cast<float>(x);
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_fp16(f), oracle_fp16_bits(f)) << std::hex << x;
  }
  // Exact ties: halfway between two halves goes to the even one.
  EXPECT_EQ(float_to_fp16(1.0f + 0x1p-11f), 0x3c00);            // 1 + half ulp -> 1
  EXPECT_EQ(float_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);        // -> even neighbour above
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00);                   // tie between max and Inf -> Inf
  EXPECT_EQ(float_to_fp16(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(0x1p-25f), 0x0000);                   // tie between 0 and min subnormal
  EXPECT_EQ(float_to_fp16(0x1p-25f * 1.0001f), 0x0001);
  EXPECT_EQ(float_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  const std::uint16_t nan = float_to_fp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7e00, 0x7e00);
}

TEST(Bf16, RoundsToNearestEvenAndKeepsNanQuiet) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  for (int i = 0; i < 400000; ++i) {
    const std::uint32_t x = any_bits(rng);
    const float f = std::bit_cast<float>(x);
    const std::uint16_t b = float_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_float(b)));
      ASSERT_TRUE(b & 0x40) << "NaN must be quiet";
      ASSERT_EQ(b & 0x8000, (x >> 16) & 0x8000) << "NaN keeps its sign";
      continue;
    }
    // The two bf16 values around f (truncation and the next one away from zero).
    const std::uint16_t down = static_cast<std::uint16_t>(x >> 16), up = static_cast<std::uint16_t>(down + 1);
    const double dist_down = std::fabs(static_cast<double>(f) - bf16_to_float(down));
    // Rounding treats the step past the largest finite value as 2^128 (IEEE overflow rule).
    const double up_value = std::isinf(bf16_to_float(up)) ? std::copysign(std::ldexp(1.0, 128), f) : bf16_to_float(up);
    const double dist_up = std::fabs(static_cast<double>(f) - up_value);
    std::uint16_t expected = dist_down < dist_up ? down : up;
    if (dist_down == dist_up) expected = (down & 1) ? up : down;
    if ((x & 0xffffu) == 0) expected = down;  // exactly representable (also +-Inf)
    ASSERT_EQ(b, expected) << std::hex << x;
  }
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0);  // signalling NaN made quiet
}

}  // namespace
}  // namespace autarky
