// The activation formats (Q8_0 fast path, Q8_1, Q8_K): their side fields (Q8_1's s, Q8_K's
// bsums) agree with their codes, and the fast path stays close to the searched quantizer.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/type_traits.h"
#include "test_support.h"

namespace autarky {
namespace {

std::vector<float> gaussian(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

double relative_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < x.size(); ++i) err += (x[i] - y[i]) * (x[i] - y[i]), ref += x[i] * x[i];
  return std::sqrt(err / ref);
}

TEST(ActivationQuant, Q8KBlockSumsMatchCodes) {
  const std::vector<float> x = gaussian(4 * kQK_K, 1);
  std::vector<BlockQ8_K> blocks(4);
  type_traits(DType::Q8_K).from_float_fast(x.data(), blocks.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const BlockQ8_K& b = blocks[k];
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int i = 16 * j; i < 16 * (j + 1); ++i) sum += b.qs[i];
      EXPECT_EQ(b.bsums[j], sum);
    }
    // As llama.cpp: the value of largest magnitude maps to -127 (so codes stay in [-127, 127]),
    // and d is the inverse of the multiplier -127 / that value.
    int largest = 0;
    for (int i = 0; i < kQK_K; ++i) {
      if (std::fabs(x[k * kQK_K + i]) > std::fabs(x[k * kQK_K + largest])) largest = i;
      EXPECT_GE(b.qs[i], -127);
    }
    EXPECT_EQ(b.qs[largest], -127);
    EXPECT_EQ(b.d, 1.0f / (-127.0f / x[k * kQK_K + largest]));
  }
}

// Q8_0 activation codes are x * (127 / max |x|) rounded to nearest even, the multiplier llama.cpp's
// x86 build uses (not the inverse of the stored fp16 scale, which differs in the last bits and
// so moves values that sit near a rounding boundary to the other code).
TEST(ActivationQuant, Q80CodesScaleBy127OverTheLargestMagnitude) {
  std::vector<float> x = gaussian(8 * kQK, 3);
  // First block: max 127, so the multiplier is 1 and the halves are exact ties (to even).
  for (int i = 0; i < kQK - 1; ++i) x[i] = static_cast<float>(i) - 15.5f;
  x[kQK - 1] = 127.0f;
  std::vector<BlockQ8_0> blocks(8);
  type_traits(DType::Q8_0).from_float_fast(x.data(), blocks.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    float amax = 0;
    for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[k * kQK + i]));
    EXPECT_EQ(blocks[k].d, float_to_fp16(amax / 127.0f));
    const float multiplier = 127.0f / amax;
    for (int i = 0; i < kQK; ++i) {
      EXPECT_EQ(blocks[k].qs[i], static_cast<int>(std::nearbyint(x[k * kQK + i] * multiplier))) << "block " << k << " i " << i;
    }
  }
}

// Q8_1's s is the block's scale before fp16 rounding (max |x| / 127) times the sum of its codes,
// rounded once to fp16, as llama.cpp stores it; its codes and d are those of Q8_0.
TEST(ActivationQuant, Q81SumIsUnroundedScaleTimesCodeSum) {
  const std::vector<float> x = gaussian(8 * kQK, 2);
  std::vector<BlockQ8_1> blocks(8);
  std::vector<BlockQ8_0> plain(8);
  type_traits(DType::Q8_1).from_float(x.data(), blocks.data(), static_cast<std::int64_t>(x.size()));
  type_traits(DType::Q8_0).from_float_fast(x.data(), plain.data(), static_cast<std::int64_t>(x.size()));
  int rounded_apart = 0;
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const BlockQ8_1& b = blocks[k];
    EXPECT_EQ(b.d, plain[k].d);
    EXPECT_EQ(std::memcmp(b.qs, plain[k].qs, kQK), 0);
    float amax = 0;
    int sum = 0;
    for (int i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[k * kQK + i])), sum += b.qs[i];
    EXPECT_EQ(b.s, float_to_fp16(amax / 127.0f * static_cast<float>(sum))) << "block " << k;
    rounded_apart += b.s != float_to_fp16(fp16_to_float(b.d) * static_cast<float>(sum));
  }
  // The unrounded scale matters: with the stored d, some of these blocks' s would differ.
  EXPECT_GT(rounded_apart, 0);
}

TEST(ActivationQuant, FastQ80IsCloseToSearchedQ80) {
  const std::vector<float> x = gaussian(64 * kQK, 3);
  const TypeTraits& t = type_traits(DType::Q8_0);
  ASSERT_NE(t.from_float_fast, t.from_float);
  std::vector<BlockQ8_0> fast(64), best(64);
  t.from_float_fast(x.data(), fast.data(), static_cast<std::int64_t>(x.size()));
  t.from_float(x.data(), best.data(), static_cast<std::int64_t>(x.size()));
  std::vector<float> y_fast(x.size()), y_best(x.size());
  t.to_float(fast.data(), y_fast.data(), static_cast<std::int64_t>(x.size()));
  t.to_float(best.data(), y_best.data(), static_cast<std::int64_t>(x.size()));
  const double e_fast = relative_rmse(x, y_fast), e_best = relative_rmse(x, y_best);
  EXPECT_LE(e_best, e_fast);
  EXPECT_LE(e_fast, 1.15 * e_best);
}

TEST(ActivationQuant, FastPathPresentExactlyWhereQuantizationIs) {
  for (std::uint32_t id = 0; id < 40; ++id) {
    if (!find_layout(id)) continue;
    const TypeTraits& t = type_traits(static_cast<DType>(id));
    EXPECT_EQ(t.from_float == nullptr, t.from_float_fast == nullptr) << id;
    EXPECT_EQ(static_cast<std::uint32_t>(t.type), id);
  }
}

}  // namespace
}  // namespace autarky
